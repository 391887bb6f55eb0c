//! The fleet tests' harness: real `redis-server` processes (started,
//! flushed, killed and restarted on the same port, never persisting), real
//! demo server processes (the `server` example, built once), real nginx, and
//! a client for the demo's topic endpoints.
//!
//! Every process is killed when its handle drops, so a failing test leaves
//! nothing running.

#![allow(dead_code)]

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sse_codec::BytesItem;
use sse_codec_tokio::SseStream;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::time::{sleep, timeout, Instant};

/// The cargo features the `server` example is built with: its `--redis`
/// mode needs the crate's Redis backend.
const SERVER_FEATURES: &str = "redis";

/// `name` on `PATH`.
pub(crate) fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `redis-server`, or `None` after saying why the test is skipped. With
/// `SSE_REDIS_TEST=required` (as `.ci/run` sets) a missing `redis-server`
/// fails the test instead.
pub(crate) fn redis_server_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(binary) = on_path("redis-server") {
        return Some(binary);
    }
    assert!(
        std::env::var_os("SSE_REDIS_TEST").is_none_or(|v| v != "required"),
        "SSE_REDIS_TEST=required but redis-server is not on PATH (apt-get install redis-server)"
    );
    eprintln!(
        "SKIPPED {test}: redis-server is not on PATH (apt-get install redis-server; \
         SSE_REDIS_TEST=required makes this fail)"
    );
    None
}

/// A directory removed on drop.
#[derive(Debug)]
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(what: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "sse-fleet-{what}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

/// A `redis-server` on a loopback port, without persistence (`--save ""
/// --appendonly no`, its own directory): stopping it loses every key, as a
/// crash of an unpersisted Redis does.
#[derive(Debug)]
pub(crate) struct Redis {
    binary: PathBuf,
    port: u16,
    dir: TempDir,
    child: Option<Child>,
}

impl Redis {
    /// Starts one on a free port and waits until it answers `PING`.
    pub(crate) async fn start(binary: &Path) -> Redis {
        let mut redis = Redis {
            binary: binary.to_owned(),
            port: 0,
            dir: TempDir::new("redis"),
            child: None,
        };
        for _ in 0..10 {
            redis.port = free_port();
            if redis.spawn().await.is_ok() {
                return redis;
            }
        }
        panic!("redis-server did not start: {}", redis.log());
    }

    async fn spawn(&mut self) -> Result<(), String> {
        let mut child = Command::new(&self.binary)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(self.dir.path().join("redis.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.binary.display()))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("redis-server exited: {status}"));
            }
            if self.command(&["PING"]).await.is_ok_and(|r| r == "+PONG") {
                self.child = Some(child);
                return Ok(());
            }
            sleep(Duration::from_millis(20)).await;
        }
        let _ = child.kill().await;
        Err("redis-server did not answer PING within 10 s".into())
    }

    /// `redis://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Kills it (SIGKILL): every key is lost, nothing was saved.
    pub(crate) async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again, empty, on the same port.
    pub(crate) async fn restart(&mut self) {
        self.stop().await;
        // The port was ours a moment ago; redis-server binds with
        // SO_REUSEADDR, so connections in TIME_WAIT do not hold it.
        let mut last = String::new();
        for _ in 0..20 {
            match self.spawn().await {
                Ok(()) => return,
                Err(e) => last = e,
            }
            sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "redis-server did not restart on port {}: {last}; {}",
            self.port,
            self.log()
        );
    }

    /// Sends one command; the first line of the reply (`+OK`, `:3`, …).
    pub(crate) async fn command(&self, args: &[&str]) -> std::io::Result<String> {
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        let exchange = async {
            let mut tcp = TcpStream::connect(("127.0.0.1", self.port)).await?;
            tcp.write_all(request.as_bytes()).await?;
            let mut line = String::new();
            BufReader::new(tcp).read_line(&mut line).await?;
            Ok(line.trim_end().to_owned())
        };
        timeout(Duration::from_secs(5), exchange)
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
    }

    /// `FLUSHALL`: Redis loses every key while the nodes keep running.
    pub(crate) async fn flushall(&self) {
        let reply = self.command(&["FLUSHALL"]).await.expect("FLUSHALL");
        assert_eq!(reply, "+OK", "FLUSHALL answered {reply:?}");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }
}

/// The `server` example's binary, built once per test process with cargo's
/// JSON messages naming it (as `tests/examples.rs` does). `cargo test` has
/// released the build directory's lock by the time tests run.
pub(crate) fn server_binary() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let mut cargo = std::process::Command::new(env!("CARGO"));
        let build = "build --quiet --message-format=json-render-diagnostics \
                     -p sse-codec-tokio --example server --features";
        cargo.args(build.split_whitespace()).arg(SERVER_FEATURES);
        let out = (cargo.stderr(Stdio::inherit()).output()).map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("cargo build failed: {}", out.status));
        }
        for line in out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let message: serde_json::Value =
                serde_json::from_slice(line).map_err(|e| e.to_string())?;
            if message["target"]["name"] == "server" {
                if let Some(exe) = message["executable"].as_str() {
                    return Ok(PathBuf::from(exe));
                }
            }
        }
        Err("cargo named no server binary".into())
    });
    built.as_deref().expect("the server example builds")
}

/// A demo server process: `server --port 0 [--redis URL]`.
#[derive(Debug)]
pub(crate) struct Node {
    child: Child,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub(crate) base: String,
    /// What it wrote to stderr so far.
    stderr: Arc<Mutex<String>>,
}

impl Node {
    /// Starts a node on a free port, in Redis mode with `redis`, else with
    /// the in-memory log; returns once it has printed its URL.
    pub(crate) async fn start(redis: Option<&str>) -> Node {
        let mut command = Command::new(server_binary());
        command.args(["--port", "0"]);
        if let Some(url) = redis {
            command.args(["--redis", url]);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the server example runs");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        tokio::spawn(async move {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf).await {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let found = timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = out.next_line().await {
                let url = line.split_whitespace().find(|w| w.starts_with("http://"));
                if let Some(url) = url {
                    return Some(url.trim_end_matches('/').to_owned());
                }
            }
            None
        })
        .await;
        let Ok(Some(base)) = found else {
            let _ = child.kill().await;
            panic!(
                "the node printed no URL; its stderr:\n{}",
                stderr.lock().unwrap()
            );
        };
        // Keep draining stdout so that the node never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
        let addr = base
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("not an http://IP:PORT URL: {base}"));
        Node {
            child,
            addr,
            base,
            stderr,
        }
    }

    /// SIGKILL, and reaps it.
    pub(crate) async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Whether the process is still running.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What it wrote to stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// `base` + `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// The HTTP client of the tests: reqwest, no proxy from the environment.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .expect("a reqwest client")
}

/// `s` as a query-string value: unreserved characters as they are, the
/// rest percent-encoded.
pub(crate) fn query_value(s: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `POST {base}/streams/{topic}[?event=TYPE]` with `body`: the status and
/// the response's text. Gives up (panics) after 30 s.
pub(crate) async fn post(
    client: &reqwest::Client,
    base: &str,
    topic: &str,
    event_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Result<(u16, String), String> {
    let mut url = format!("{base}/streams/{topic}");
    if let Some(t) = event_type {
        url.push_str(&format!("?event={}", query_value(t)));
    }
    let send = async {
        let response = client.post(&url).body(body).send().await?;
        let status = response.status().as_u16();
        Ok::<_, reqwest::Error>((status, response.text().await?))
    };
    match timeout(Duration::from_secs(30), send).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => Err(format!("POST {url}: {e}")),
        Err(_) => panic!("POST {url} got no answer within 30 s"),
    }
}

/// Publishes one event; its id, asserting a `200`.
pub(crate) async fn publish(
    client: &reqwest::Client,
    base: &str,
    topic: &str,
    event_type: Option<&str>,
    data: &str,
) -> String {
    let (status, body) = post(client, base, topic, event_type, data.to_owned())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 200, "POST {base}/streams/{topic}: {body}");
    assert!(!body.is_empty(), "POST {base}/streams/{topic}: an empty id");
    body
}

/// One event as a client reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ev {
    /// The last event ID after it.
    pub(crate) id: String,
    pub(crate) event_type: String,
    pub(crate) data: String,
}

type Body = Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

/// An open `GET /streams/...` response, decoded.
pub(crate) struct Events {
    stream: SseStream<Body>,
    /// How many comments (heartbeats) have gone by.
    pub(crate) comments: usize,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("comments", &self.comments)
            .finish()
    }
}

/// What to ask `GET /streams/{topic}` for.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Get<'a> {
    /// The `last_event_id` query parameter.
    pub(crate) query_id: Option<&'a str>,
    /// The `Last-Event-ID` header.
    pub(crate) header_id: Option<&'a str>,
    /// `close_after`.
    pub(crate) close_after: Option<usize>,
    /// Any other query, appended as is (`heartbeat_ms=100`).
    pub(crate) extra: Option<&'a str>,
}

/// The URL of `GET {base}/streams/{topic}` with `get`'s query.
pub(crate) fn stream_url(base: &str, topic: &str, get: Get<'_>) -> String {
    let mut query = Vec::new();
    if let Some(id) = get.query_id {
        query.push(format!("last_event_id={}", query_value(id)));
    }
    if let Some(n) = get.close_after {
        query.push(format!("close_after={n}"));
    }
    query.extend(get.extra.map(str::to_owned));
    let mut url = format!("{base}/streams/{topic}");
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    url
}

/// Opens `GET {base}/streams/{topic}`: the events, or the status and body
/// of an answer that is not a `200` event stream.
pub(crate) async fn subscribe(
    client: &reqwest::Client,
    base: &str,
    topic: &str,
    get: Get<'_>,
) -> Result<Events, (u16, String)> {
    let url = stream_url(base, topic, get);
    let mut request = client.get(&url);
    if let Some(id) = get.header_id {
        request = request.header("last-event-id", id);
    }
    let response = match timeout(Duration::from_secs(30), request.send()).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => return Err((0, format!("GET {url}: {e}"))),
        Err(_) => panic!("GET {url}: no response head within 30 s"),
    };
    let status = response.status().as_u16();
    let content_type = (response.headers().get("content-type"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if status != 200 {
        let body = timeout(Duration::from_secs(10), response.text()).await;
        return Err((status, body.ok().and_then(Result::ok).unwrap_or_default()));
    }
    assert_eq!(content_type, "text/event-stream", "GET {url}");
    let body: Body = Box::pin(response.bytes_stream());
    Ok(Events {
        stream: SseStream::new(body),
        comments: 0,
    })
}

impl Events {
    /// The next event: `Ok(None)` when the response ended cleanly, `Err`
    /// when the connection broke. Comments are counted and skipped.
    pub(crate) async fn next(&mut self) -> Result<Option<Ev>, String> {
        loop {
            match self.stream.next().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok(BytesItem::Event(e))) => {
                    return Ok(Some(Ev {
                        id: e.id().to_owned(),
                        event_type: e.event_type().to_owned(),
                        data: e.data().to_owned(),
                    }))
                }
                Some(Ok(BytesItem::Comment(_))) => self.comments += 1,
                Some(Ok(_)) => {}
            }
        }
    }

    /// The text of the next comment; `Err` if an event, the end or an
    /// error comes first.
    pub(crate) async fn next_comment(&mut self) -> Result<String, String> {
        loop {
            match self.stream.next().await {
                None => return Err("the stream ended".into()),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok(BytesItem::Event(e))) => return Err(format!("an event came first: {e:?}")),
                Some(Ok(BytesItem::Comment(text))) => {
                    self.comments += 1;
                    return Ok(text.as_str().to_owned());
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// [`next`](Self::next), giving up (panicking) after `limit`.
    pub(crate) async fn next_within(&mut self, limit: Duration) -> Result<Option<Ev>, String> {
        timeout(limit, self.next())
            .await
            .unwrap_or_else(|_| panic!("no event and no end within {limit:?}"))
    }

    /// Every event until the response ends; panics if it breaks.
    pub(crate) async fn collect(mut self) -> Vec<Ev> {
        let mut all = Vec::new();
        loop {
            match self.next().await {
                Ok(Some(e)) => all.push(e),
                Ok(None) => return all,
                Err(e) => panic!("the stream broke after {} events: {e}", all.len()),
            }
        }
    }
}

/// nginx on a free loopback port, round-robin over `upstreams`, serving the
/// files of its directory's `www/` itself, and logging each request's
/// `$request_uri`, `$upstream_addr` and `$status` to `access.log`.
#[derive(Debug)]
pub(crate) struct Nginx {
    child: Child,
    pub(crate) addr: SocketAddr,
    dir: TempDir,
}

/// nginx's binary, if installed.
pub(crate) fn nginx_binary() -> Option<&'static str> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

impl Nginx {
    /// Starts nginx with `files` (name, content) under `www/`; returns once
    /// it accepts connections.
    pub(crate) async fn start(
        binary: &str,
        upstreams: &[SocketAddr],
        files: &[(&str, &str)],
    ) -> Nginx {
        let dir = TempDir::new("nginx");
        let port = free_port();
        let d = dir.path().display();
        std::fs::create_dir_all(dir.path().join("www")).unwrap();
        for (name, content) in files {
            std::fs::write(dir.path().join("www").join(name), content).unwrap();
        }
        let servers: String = upstreams.iter().map(|a| format!("server {a};\n")).collect();
        let locations: String = files
            .iter()
            .map(|(name, _)| format!("location = /{name} {{ root {d}/www; }}\n"))
            .collect();
        let conf = format!(
            "worker_processes 1;\n\
             daemon off;\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
               log_format fleet '$request_uri $upstream_addr $status';\n\
               access_log {d}/access.log fleet;\n\
               client_body_temp_path {d}/body;\n\
               proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n\
               uwsgi_temp_path {d}/uwsgi;\n\
               scgi_temp_path {d}/scgi;\n\
               types {{ text/html html; }}\n\
               upstream nodes {{\n{servers}}}\n\
               server {{\n\
                 listen 127.0.0.1:{port};\n\
                 {locations}\
                 location / {{\n\
                   proxy_pass http://nodes;\n\
                   proxy_http_version 1.1;\n\
                   proxy_set_header Connection \"\";\n\
                 }}\n\
               }}\n\
             }}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let mut child = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("nginx starts");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        for _ in 0..200 {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(dir.path().join("error.log"));
                panic!("nginx exited ({status}): {}", log.unwrap_or_default());
            }
            if TcpStream::connect(addr).await.is_ok() {
                return Nginx { child, addr, dir };
            }
            sleep(Duration::from_millis(50)).await;
        }
        panic!("nginx did not start listening on {addr}");
    }

    /// The access log: (request URI, upstream address, status) per
    /// finished request; the address is `-` for the files nginx served.
    pub(crate) fn access_log(&self) -> Vec<(String, String, String)> {
        let log = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        log.lines()
            .filter_map(|line| {
                let mut words = line.split(' ');
                Some((
                    words.next()?.to_owned(),
                    words.next()?.to_owned(),
                    words.next()?.to_owned(),
                ))
            })
            .collect()
    }
}
