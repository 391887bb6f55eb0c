//! Fleet: two demo nodes on one Redis, subscribers spread over both, events
//! published alternately through both. All real processes on loopback: a
//! `redis-server` without persistence, and two `server` examples built in
//! release mode with the `redis` feature, run as
//! `server --port 0 --redis redis://127.0.0.1:PORT`.
//!
//! ```text
//! cargo run --release -p sse-codec-benches --bin fleet                 # the full run (about a minute)
//! cargo run --release -p sse-codec-benches --bin fleet -- --quick      # a smoke run (seconds)
//! target/release/fleet --subscribers 1000 --rate 1000 --seconds 10 --burst 20000
//! ```
//!
//! Needs `redis-server` on `PATH`. The bin builds the demo itself (with
//! `cargo build --release`), unless `--server PATH` names a built one.
//!
//! Three phases, each client a task on one 2-worker tokio runtime, each
//! connection its own HTTP/1.1 connection (hyper):
//!
//! 1. **Publish throughput, no subscribers**: `--lanes` connections per
//!    node `POST` back to back to a topic nobody reads, `--burst` events in
//!    all. Publishes/s from the first send to the last answer.
//! 2. **Latency at a fixed rate**: `--subscribers` subscribers, half on
//!    each node, read `GET /streams/bench` from one id, so that each must
//!    receive every event. `--rate` events/s for `--seconds`, event `k`
//!    sent through node `k % 2` at `start + k / rate` (4 connections per
//!    node share the schedule). Each event's data holds the time its `POST`
//!    was sent; each subscriber records `receipt - send` for every event:
//!    the cross-node delivery latency (the publisher's `POST`, Redis, the
//!    node's reader, the subscriber's socket). p50, p99, p99.9 and max over
//!    every delivery, split by whether the subscriber's node is the one the
//!    event was posted to.
//! 3. **Publish throughput under the subscribers**: `--lanes` connections
//!    per node post `--burst` events as fast as they can, but never more
//!    than [`WINDOW`] events ahead of the slowest subscriber (each node
//!    keeps a topic's newest 1,000 events in memory; a subscriber further
//!    behind would be skipped over). Publishes/s, and deliveries/s from the
//!    first send to the last subscriber's last event.
//!
//! Every subscriber must receive every event of phases 2 and 3 exactly
//! once, in the same order as every other subscriber: counted, with one
//! bit per event and a hash of the id sequence; a failure is printed.
//!
//! Everything shares the machine's cores: Redis, both nodes and this
//! process (which decodes every delivery). The load average is printed.

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use sse_codec::BytesItem;
use sse_codec_tokio::SseStream;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{sleep, sleep_until, Instant};

/// How far the publishers of phase 3 may run ahead of the slowest
/// subscriber, in events.
const WINDOW: usize = 500;
/// Filler that brings each event's data to about 100 bytes, as in
/// `fanout`.
const PAD: &str = "{\"msg\":\"the quick brown fox jumps over the lazy dog, 0123456789\"}";

#[derive(Clone, Copy, Debug)]
struct Config {
    subscribers: usize,
    rate: u64,
    seconds: u64,
    burst: usize,
    lanes: usize,
}

impl Config {
    const FULL: Config = Config {
        subscribers: 1000,
        rate: 1000,
        seconds: 10,
        burst: 20_000,
        lanes: 6,
    };
    const QUICK: Config = Config {
        subscribers: 100,
        rate: 200,
        seconds: 2,
        burst: 2000,
        lanes: 4,
    };

    fn rate_events(&self) -> usize {
        (self.rate * self.seconds) as usize
    }
}

struct Args {
    config: Config,
    server: Option<PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut config = Config::FULL;
    let mut server = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            let v = args.next().ok_or(format!("{name} needs a value"))?;
            v.parse()
                .map_err(|_| format!("{name}: not a number: {v:?}"))
        };
        match arg.as_str() {
            "--quick" => config = Config::QUICK,
            "--subscribers" => config.subscribers = value("--subscribers")? as usize,
            "--rate" => config.rate = value("--rate")?.max(1),
            "--seconds" => config.seconds = value("--seconds")?.max(1),
            "--burst" => config.burst = value("--burst")? as usize,
            "--lanes" => config.lanes = value("--lanes")?.max(1) as usize,
            "--server" => {
                server = Some(PathBuf::from(args.next().ok_or("--server needs a path")?));
            }
            _ => {
                return Err(format!(
                    "unknown argument {arg:?}; usage: fleet [--quick] [--subscribers N] \
                     [--rate EVENTS_PER_S] [--seconds S] [--burst N] [--lanes N] [--server PATH]"
                ))
            }
        }
    }
    Ok(Args { config, server })
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fleet: {e}");
            return ExitCode::from(2);
        }
    };
    let server = match args.server.map_or_else(build_server, Ok) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fleet: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(args.config, &server)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleet: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo build --release` of the demo with the `redis` feature; the
/// binary cargo names.
fn build_server() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    eprintln!("building the demo server (release, feature redis)...");
    let out = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["build", "--release", "--quiet"])
        .args(["--message-format=json-render-diagnostics"])
        .args([
            "-p",
            "sse-codec-tokio",
            "--features",
            "redis",
            "--example",
            "server",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo build failed: {}", out.status));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in stdout.lines() {
        // cargo's JSON: the `server` example's artifact names `"executable"`.
        if line.contains("\"name\":\"server\"") {
            if let Some(exe) = json_string(line, "\"executable\":\"") {
                return Ok(PathBuf::from(exe));
            }
        }
    }
    Err("cargo named no server binary".into())
}

/// The string after `key` in a line of JSON (no escapes in paths here).
fn json_string<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(key)? + key.len();
    let len = line[start..].find('"')?;
    Some(&line[start..start + len])
}

/// A child process killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `redis-server` on a free loopback port, without persistence, in its own
/// directory; its port.
fn start_redis(dir: &Path) -> Result<(Process, u16), String> {
    for _ in 0..10 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let mut child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir)
            .arg("--logfile")
            .arg(dir.join("redis.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server (apt-get install redis-server): {e}"))?;
        for _ in 0..100 {
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            if redis_ping(port) {
                return Ok((Process(child), port));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    Err("redis-server did not start".into())
}

fn redis_ping(port: u16) -> bool {
    let Ok(mut tcp) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(1)));
    let mut reply = [0; 7];
    tcp.write_all(b"PING\r\n").is_ok()
        && tcp.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

/// A demo node on `redis`; its address once it printed its URL.
fn start_node(server: &Path, redis: &str) -> Result<(Process, SocketAddr), String> {
    let mut child = Command::new(server)
        .args(["--port", "0", "--redis", redis])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("{}: {e}", server.display()))?;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                    break url.to_owned();
                }
            }
            _ => {
                let _ = child.kill();
                return Err("the node printed no URL".into());
            }
        }
    };
    // Keep reading its stdout so that it never blocks on it.
    std::thread::spawn(move || lines.for_each(drop));
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .map_err(|_| format!("not an http://IP:PORT/ URL: {url}"))?;
    Ok((Process(child), addr))
}

type Sender = SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Sender, String> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    Ok(sender)
}

/// `POST /streams/{topic}` with `data` on `sender`; the id answered.
async fn post(
    sender: &mut Sender,
    addr: SocketAddr,
    topic: &str,
    data: String,
) -> Result<String, String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let request = Request::post(format!("/streams/{topic}"))
        .header("host", addr.to_string())
        .body(Full::new(Bytes::from(data)))
        .map_err(|e| e.to_string())?;
    let response = (sender.send_request(request).await).map_err(|e| e.to_string())?;
    let status = response.status();
    let body = (response.into_body().collect().await).map_err(|e| e.to_string())?;
    let body = String::from_utf8_lossy(&body.to_bytes()).into_owned();
    if status != 200 {
        return Err(format!("POST answered {status}: {body}"));
    }
    Ok(body)
}

/// The data of event `k`, posted through node `node` at `sent` µs.
fn event_data(k: usize, node: usize, sent: u64) -> String {
    format!("{k} {node} {sent} {PAD}")
}

/// What one subscriber saw.
#[derive(Default)]
struct Seen {
    node: usize,
    count: usize,
    /// One flag per event `k`.
    got: Vec<bool>,
    duplicates: usize,
    gaps: usize,
    /// FNV-1a over the ids in the order received.
    order: u64,
    /// Latencies in µs of phase 2, by whether the event was posted to this
    /// subscriber's node.
    same_node: Vec<u32>,
    cross_node: Vec<u32>,
    /// Latencies in µs of phase 3.
    burst: Vec<u32>,
    /// When the last event arrived, µs.
    last_at: u64,
    error: Option<String>,
}

/// What every subscriber shares.
struct Plan {
    /// The id the subscribers resume after.
    from: String,
    /// Events of phases 2 and 3.
    total: usize,
    /// Events of phase 2.
    rate_events: usize,
    /// The clock the events' send times are read on.
    base: Instant,
    /// Subscribers whose response head has arrived (or failed).
    ready: AtomicUsize,
}

/// A subscriber on node `node` at `addr`, until it has `plan.total`
/// events; `progress` is its count so far.
async fn subscribe(
    addr: SocketAddr,
    node: usize,
    plan: Arc<Plan>,
    progress: Arc<AtomicUsize>,
) -> Seen {
    let (total, rate_events, base) = (plan.total, plan.rate_events, plan.base);
    let mut seen = Seen {
        node,
        got: vec![false; total],
        order: 0xcbf2_9ce4_8422_2325,
        ..Seen::default()
    };
    let response = async {
        let mut sender = connect(addr).await?;
        let request = Request::get(format!("/streams/bench?last_event_id={}", plan.from))
            .header("host", addr.to_string())
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let response = (sender.send_request(request).await).map_err(|e| e.to_string())?;
        if response.status() != 200 {
            return Err(format!("GET answered {}", response.status()));
        }
        Ok(response)
    };
    let response = match response.await {
        Ok(r) => r,
        Err(e) => {
            seen.error = Some(e);
            plan.ready.fetch_add(1, Ordering::Relaxed);
            return seen;
        }
    };
    plan.ready.fetch_add(1, Ordering::Relaxed);
    let mut events = SseStream::new(response.into_body().into_data_stream());
    while seen.count < total {
        let event = match events.next().await {
            Some(Ok(BytesItem::Event(e))) => e,
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                seen.error = Some(e.to_string());
                break;
            }
            None => {
                seen.error = Some("the stream ended".into());
                break;
            }
        };
        let now = base.elapsed().as_micros() as u64;
        if event.event_type() == "gap" {
            seen.gaps += 1;
            continue;
        }
        let mut words = event.data().split(' ');
        let (Some(k), Some(from_node), Some(sent)) = (
            words.next().and_then(|w| w.parse::<usize>().ok()),
            words.next().and_then(|w| w.parse::<usize>().ok()),
            words.next().and_then(|w| w.parse::<u64>().ok()),
        ) else {
            seen.error = Some(format!("unexpected data {:?}", event.data()));
            break;
        };
        match seen.got.get_mut(k) {
            Some(flag) if !*flag => *flag = true,
            Some(_) => seen.duplicates += 1,
            None => {
                seen.error = Some(format!("event #{k} was never published"));
                break;
            }
        }
        for b in event.id().bytes().chain([b'\n']) {
            seen.order = (seen.order ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        let latency = now.saturating_sub(sent).min(u64::from(u32::MAX)) as u32;
        if k >= rate_events {
            seen.burst.push(latency);
        } else if from_node == node {
            seen.same_node.push(latency);
        } else {
            seen.cross_node.push(latency);
        }
        seen.count += 1;
        seen.last_at = now;
        progress.store(seen.count, Ordering::Relaxed);
    }
    seen
}

/// Publishes events `ks` to `topic` through `lanes` connections per node,
/// event `k` through node `k % 2`, as fast as `gate(k)` allows; the time of
/// the first send and of the last answer.
async fn publish_burst(
    nodes: [SocketAddr; 2],
    topic: &'static str,
    ks: std::ops::Range<usize>,
    lanes: usize,
    base: Instant,
    slowest: Option<Arc<AtomicUsize>>,
) -> Result<(Instant, Instant), String> {
    let next = Arc::new(AtomicUsize::new(ks.start));
    let mut tasks = Vec::new();
    let started = Instant::now();
    for node in [0, 1] {
        for _ in 0..lanes {
            let (next, slowest, end) = (Arc::clone(&next), slowest.clone(), ks.end);
            let addr = nodes[node];
            tasks.push(tokio::spawn(async move {
                let mut sender = connect(addr).await?;
                loop {
                    // Each lane takes the next event number; the node is
                    // the lane's, so `k % 2` is not kept here: both nodes
                    // take turns as fast as they answer.
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= end {
                        return Ok::<(), String>(());
                    }
                    if let Some(slowest) = &slowest {
                        // `slowest` counts phase 2's events too, as `k` does.
                        let give_up = Instant::now() + Duration::from_secs(30);
                        while slowest.load(Ordering::Relaxed) + WINDOW < k {
                            if Instant::now() > give_up {
                                return Err(format!(
                                    "the slowest subscriber stayed at {} events for 30 s",
                                    slowest.load(Ordering::Relaxed)
                                ));
                            }
                            sleep(Duration::from_millis(1)).await;
                        }
                    }
                    let sent = base.elapsed().as_micros() as u64;
                    post(&mut sender, addr, topic, event_data(k, node, sent)).await?;
                }
            }));
        }
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    Ok((started, Instant::now()))
}

/// CPU time (user + system) process `pid` has used, in seconds (`/proc`'s
/// clock ticks, 100 a second on Linux); 0 where `/proc` is missing.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command's closing parenthesis; utime and stime
    // are the 14th and 15th of the line.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = (rest.split_whitespace().skip(11).take(2))
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
}

/// p50, p99, p99.9 and max of `v` (sorted here), in ms.
fn percentiles(v: &mut [u32]) -> String {
    if v.is_empty() {
        return "– | – | – | –".into();
    }
    v.sort_unstable();
    let at = |q: f64| f64::from(v[((v.len() as f64 * q) as usize).min(v.len() - 1)]) / 1000.0;
    format!(
        "{:.2} | {:.2} | {:.2} | {:.2}",
        at(0.50),
        at(0.99),
        at(0.999),
        f64::from(v[v.len() - 1]) / 1000.0
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

async fn run(config: Config, server: &Path) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("sse-fleet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = run_in(config, server, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_in(config: Config, server: &Path, dir: &Path) -> Result<(), String> {
    let (redis_process, port) = start_redis(dir)?;
    let redis = format!("redis://127.0.0.1:{port}");
    let (node_a, a) = start_node(server, &redis)?;
    let (node_b, b) = start_node(server, &redis)?;
    let pids = [
        ("redis-server", redis_process.0.id()),
        ("node A", node_a.0.id()),
        ("node B", node_b.0.id()),
        ("this client", std::process::id()),
    ];
    let cpu = || pids.map(|(_, pid)| cpu_seconds(pid));
    let nodes = [a, b];
    let base = Instant::now();
    println!(
        "fleet: nodes {a} and {b} on {redis}; {config:?}; load average {}",
        load_average()
    );

    // 1. Publish throughput with nobody subscribed.
    let (first, last) =
        publish_burst(nodes, "idle", 0..config.burst, config.lanes, base, None).await?;
    let idle_rate = config.burst as f64 / (last - first).as_secs_f64();
    println!(
        "1. publish, no subscribers: {} events over {} connections in {:.2} s: {idle_rate:.0} events/s",
        config.burst,
        2 * config.lanes,
        (last - first).as_secs_f64()
    );

    // 2. Subscribers, then events at a fixed rate.
    let mut sender = connect(a).await?;
    let from = post(&mut sender, a, "bench", "start".into()).await?;
    drop(sender);
    let rate_events = config.rate_events();
    let total = rate_events + config.burst;
    let plan = Arc::new(Plan {
        from,
        total,
        rate_events,
        base,
        ready: AtomicUsize::new(0),
    });
    let progress: Vec<Arc<AtomicUsize>> = (0..config.subscribers)
        .map(|_| Arc::new(AtomicUsize::new(0)))
        .collect();
    let mut subscribers = Vec::new();
    for (s, progress) in progress.iter().enumerate() {
        subscribers.push(tokio::spawn(subscribe(
            nodes[s % 2],
            s % 2,
            Arc::clone(&plan),
            Arc::clone(progress),
        )));
    }
    while plan.ready.load(Ordering::Relaxed) < config.subscribers {
        sleep(Duration::from_millis(10)).await;
    }
    // The slowest subscriber's count, for phase 3's window.
    let slowest = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (slowest, progress) = (Arc::clone(&slowest), progress.clone());
        tokio::spawn(async move {
            loop {
                let min = progress.iter().map(|p| p.load(Ordering::Relaxed)).min();
                slowest.store(min.unwrap_or(0), Ordering::Relaxed);
                sleep(Duration::from_millis(1)).await;
            }
        })
    };

    println!(
        "2. {} subscribers connected; publishing {} events/s for {} s",
        config.subscribers, config.rate, config.seconds
    );
    let cpu_before = cpu();
    let period = Duration::from_secs(1).as_nanos() as u64 / config.rate;
    let start = Instant::now() + Duration::from_millis(100);
    const RATE_LANES: usize = 4; // per node
    let late = Arc::new(AtomicU64::new(0));
    let mut lanes = Vec::new();
    for lane in 0..2 * RATE_LANES {
        let addr = nodes[lane % 2];
        let late = Arc::clone(&late);
        lanes.push(tokio::spawn(async move {
            let mut sender = connect(addr).await?;
            for k in (lane..rate_events).step_by(2 * RATE_LANES) {
                let due = start + Duration::from_nanos(k as u64 * period);
                sleep_until(due).await;
                let behind = Instant::now().saturating_duration_since(due).as_micros() as u64;
                late.fetch_max(behind, Ordering::Relaxed);
                let sent = base.elapsed().as_micros() as u64;
                post(&mut sender, addr, "bench", event_data(k, k % 2, sent)).await?;
            }
            Ok::<Instant, String>(Instant::now())
        }));
    }
    let mut rate_end = start;
    for lane in lanes {
        rate_end = rate_end.max(lane.await.map_err(|e| e.to_string())??);
    }
    let sent_rate = rate_events as f64 / (rate_end - start).as_secs_f64();
    println!(
        "   sent {rate_events} events in {:.2} s ({sent_rate:.0}/s; a send was at most {:.1} ms behind schedule)",
        (rate_end - start).as_secs_f64(),
        late.load(Ordering::Relaxed) as f64 / 1000.0
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while slowest.load(Ordering::Relaxed) < rate_events && Instant::now() < deadline {
        sleep(Duration::from_millis(10)).await;
    }
    let wall = (Instant::now() - start).as_secs_f64();
    let used: Vec<String> = (pids.iter().zip(cpu().iter().zip(cpu_before)))
        .map(|((name, _), (after, before))| {
            format!("{name} {:.0}%", 100.0 * (after - before) / wall)
        })
        .collect();
    println!(
        "   CPU over phase 2 ({wall:.1} s, share of one core): {}",
        used.join(", ")
    );

    // 3. As fast as the slowest subscriber allows.
    let (first, last) = publish_burst(
        nodes,
        "bench",
        rate_events..total,
        config.lanes,
        base,
        Some(Arc::clone(&slowest)),
    )
    .await?;
    let burst_rate = config.burst as f64 / (last - first).as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    for subscriber in subscribers {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, subscriber).await {
            Ok(s) => seen.push(s.map_err(|e| e.to_string())?),
            Err(_) => return Err("subscribers still short of events after 120 s".into()),
        }
    }
    watcher.abort();
    let first_us = (first - base).as_micros() as u64;
    let last_delivery = seen.iter().map(|s| s.last_at).max().unwrap_or(first_us);
    let deliveries = (config.burst * config.subscribers) as f64
        / (last_delivery.saturating_sub(first_us) as f64 / 1e6);
    println!(
        "3. publish under {} subscribers: {} events over {} connections in {:.2} s: {burst_rate:.0} events/s; \
         every subscriber had every event {:.2} s after the first send: {:.2} M deliveries/s",
        config.subscribers,
        config.burst,
        2 * config.lanes,
        (last - first).as_secs_f64(),
        last_delivery.saturating_sub(first_us) as f64 / 1e6,
        deliveries / 1e6
    );

    // Exactly once, in one order.
    let mut problems = 0;
    let order = seen.first().map(|s| s.order);
    for (s, seen) in seen.iter().enumerate() {
        let missing = seen.got.iter().filter(|&&g| !g).count();
        if missing > 0
            || seen.duplicates > 0
            || seen.gaps > 0
            || seen.error.is_some()
            || Some(seen.order) != order
        {
            problems += 1;
            if problems <= 5 {
                println!(
                    "   subscriber #{s} (node {}): {missing} missing, {} duplicates, {} gaps, order {}, error {:?}",
                    seen.node,
                    seen.duplicates,
                    seen.gaps,
                    if Some(seen.order) == order { "same" } else { "DIFFERENT" },
                    seen.error
                );
            }
        }
    }
    println!(
        "   exactly once and in one order: {} of {} subscribers",
        seen.len() - problems,
        seen.len()
    );

    let mut same: Vec<u32> = seen
        .iter()
        .flat_map(|s| s.same_node.iter().copied())
        .collect();
    let mut cross: Vec<u32> = seen
        .iter()
        .flat_map(|s| s.cross_node.iter().copied())
        .collect();
    let mut burst: Vec<u32> = seen.iter().flat_map(|s| s.burst.iter().copied()).collect();
    let mut all: Vec<u32> = same.iter().chain(&cross).copied().collect();
    println!();
    println!("| deliveries (phase) | count | p50 ms | p99 ms | p99.9 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| all at {} events/s (2) | {} | {} |",
        config.rate,
        all.len(),
        percentiles(&mut all)
    );
    println!(
        "| posted to the other node (2) | {} | {} |",
        cross.len(),
        percentiles(&mut cross)
    );
    println!(
        "| posted to the same node (2) | {} | {} |",
        same.len(),
        percentiles(&mut same)
    );
    println!(
        "| under the burst (3) | {} | {} |",
        burst.len(),
        percentiles(&mut burst)
    );
    println!();
    println!("load average at the end: {}", load_average());
    if problems > 0 {
        return Err(format!(
            "{problems} subscribers did not get every event exactly once"
        ));
    }
    Ok(())
}
