//! The demo behind a real nginx reverse proxy with its default buffering on
//! (`proxy_buffering on`): each event reaches the client through nginx
//! within 100 ms of being appended, and a reconnection through nginx
//! resumes with `Last-Event-ID`.
//!
//! What it guards: that the server sends each event as it is appended and
//! that the proxied path (headers, chunked body, `Last-Event-ID` passed
//! upstream) works end to end. Measured with nginx 1.22 (Debian 12): with
//! this configuration nginx passed events on at once even when the response
//! said `X-Accel-Buffering: yes`, so this test does not show what the
//! header is for (nginx setups that buffer, e.g. with `proxy_buffering` and
//! a `proxy_buffers` tuned for throughput, or a cache in front).
//!
//! Needs `nginx` (`apt-get install nginx-light`); without it the test says
//! so and passes, unless `SSE_NGINX_TEST=required` is set, as `.ci/run`
//! does.

mod common;

use bytes::Bytes;
use common::{expected, start};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use sse_codec::BytesItem;
use sse_codec_tokio::SseStream;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

fn nginx_binary() -> Option<&'static str> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// nginx proxying `127.0.0.1:listen` to `upstream`, as an operator would set
/// it up: HTTP/1.1 to the upstream, every buffering default left on.
struct Nginx {
    child: Child,
    addr: SocketAddr,
    _dir: tempdir::Dir,
}

mod tempdir {
    /// A directory removed on drop.
    pub(crate) struct Dir(pub(crate) std::path::PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Nginx {
    fn start(binary: &str, upstream: SocketAddr) -> Nginx {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("sse-nginx-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        let conf = format!(
            "worker_processes 1;\n\
             daemon off;\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n\
               access_log off;\n\
               client_body_temp_path {d}/body;\n\
               proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n\
               uwsgi_temp_path {d}/uwsgi;\n\
               scgi_temp_path {d}/scgi;\n\
               server {{\n\
                 listen 127.0.0.1:{port};\n\
                 location / {{\n\
                   proxy_pass http://{upstream};\n\
                   proxy_http_version 1.1;\n\
                   proxy_set_header Connection \"\";\n\
                 }}\n\
               }}\n\
             }}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new(binary)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts");
        Nginx {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            _dir: tempdir::Dir(dir),
        }
    }

    /// Waits until nginx accepts connections.
    async fn ready(&self) {
        for _ in 0..100 {
            if TcpStream::connect(self.addr).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nginx did not start listening on {}", self.addr);
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET target` through `addr` with hyper; the events of the body.
async fn get(
    addr: SocketAddr,
    target: &str,
    headers: &[(&str, &str)],
) -> SseStream<impl futures_util::Stream<Item = Result<Bytes, hyper::Error>> + Unpin> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut request = hyper::Request::get(target).header("host", addr.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender
        .send_request(request.body(http_body_util::Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    SseStream::new(response.into_body().into_data_stream())
}

#[tokio::test]
async fn events_pass_through_nginx_at_once_and_resume_with_last_event_id() {
    let Some(binary) = nginx_binary() else {
        assert!(
            std::env::var_os("SSE_NGINX_TEST").is_none_or(|v| v != "required"),
            "SSE_NGINX_TEST=required but nginx is not installed"
        );
        eprintln!("nginx not installed: skipped");
        return;
    };
    timeout(Duration::from_secs(60), async {
        let server = start(Duration::from_secs(5)).await;
        let nginx = Nginx::start(binary, server.addr);
        nginx.ready().await;

        // When each event is appended, seen in-process.
        let appended = std::sync::Arc::new(std::sync::Mutex::new(HashMap::<u64, Instant>::new()));
        let mut watch = server.demo.log().subscribe(None);
        let stamps = std::sync::Arc::clone(&appended);
        tokio::spawn(async move {
            while let Some(entry) = watch.next().await {
                stamps.lock().unwrap().insert(entry.seq(), Instant::now());
            }
        });

        let mut events = get(nginx.addr, "/events?interval_ms=50&retry=100", &[]).await;
        let mut worst = Duration::ZERO;
        let mut last = 0;
        let mut received = 0;
        while received < 20 {
            match events.next().await.expect("the stream goes on").unwrap() {
                BytesItem::Event(e) => {
                    let arrived = Instant::now();
                    let id: u64 = e.id().parse().unwrap();
                    let (event_type, data) = expected(id);
                    assert_eq!((e.event_type(), e.data()), (event_type, data.as_str()));
                    // The in-process subscriber may be a moment behind.
                    let mut at = None;
                    for _ in 0..100 {
                        at = appended.lock().unwrap().get(&id).copied();
                        if at.is_some() {
                            break;
                        }
                        tokio::task::yield_now().await;
                    }
                    let at = at.unwrap_or(arrived);
                    worst = worst.max(arrived.saturating_duration_since(at));
                    last = id;
                    received += 1;
                }
                BytesItem::Retry(ms) => assert_eq!(ms, 100),
                _ => {}
            }
        }
        assert!(
            worst <= Duration::from_millis(100),
            "an event took {worst:?} through nginx"
        );
        drop(events);

        // Away while events go on; back through nginx with the last id.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let resume = last.to_string();
        let mut events = get(nginx.addr, "/events", &[("last-event-id", &resume)]).await;
        let mut next = None;
        while next.is_none() {
            if let BytesItem::Event(e) = events.next().await.unwrap().unwrap() {
                next = Some(e.id().parse::<u64>().unwrap());
            }
        }
        assert_eq!(next, Some(last + 1), "resumed right after {last}");
    })
    .await
    .expect("finished within 60 s");
}
