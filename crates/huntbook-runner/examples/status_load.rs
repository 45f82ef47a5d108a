//! Load generator for the service benchmark (`bench/service.py`): sends `GET PATH` to a
//! running `huntbook serve` at a fixed rate over keep-alive connections and prints
//! the latencies, so that the figure measures the server, not a Python client sharing
//! its cores.
//!
//! ```text
//! cargo run -p huntbook-runner --example status_load -- 127.0.0.1:8080 /api/v1/runs/ID TOKEN 1000 5
//! ```
//!
//! Open loop: request `i` is due at `i / rate` seconds, and its latency counts from
//! then, so a request waiting for a free connection counts its wait. Prints one JSON
//! object: `{"sent", "seconds", "latencies_ms": [...]}`; any status other than 200
//! stops it with an error.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const CONNECTIONS: usize = 64;

type Connection = BufReader<TcpStream>;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [address, path, token, rate, seconds] = args.as_slice() else {
        eprintln!("usage: status_load ADDRESS PATH TOKEN RATE SECONDS");
        std::process::exit(2);
    };
    let rate: f64 = rate.parse().expect("RATE is a number");
    let seconds: f64 = seconds.parse().expect("SECONDS is a number");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\r\n");

    let (idle_tx, mut idle_rx) = mpsc::unbounded_channel::<Connection>();
    for _ in 0..CONNECTIONS {
        let stream = TcpStream::connect(address.as_str()).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        idle_tx.send(BufReader::new(stream)).expect("queue");
    }
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<f64>();
    let total = (rate * seconds) as usize;
    let start = Instant::now();
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        // Connections are taken in order of due time: a late request waits here.
        let mut connection = idle_rx.recv().await.expect("a connection");
        let (request, idle_tx, done_tx) = (request.clone(), idle_tx.clone(), done_tx.clone());
        tokio::spawn(async move {
            get(&mut connection, request.as_bytes()).await;
            let _ = done_tx.send(due.elapsed().as_secs_f64() * 1000.0);
            let _ = idle_tx.send(connection);
        });
    }
    drop(done_tx);
    let mut latencies = Vec::with_capacity(total);
    while let Some(ms) = done_rx.recv().await {
        latencies.push(ms);
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"sent": total, "seconds": elapsed, "latencies_ms": latencies})
    );
}

/// One request and its whole response; exits on anything but 200.
async fn get(connection: &mut Connection, request: &[u8]) {
    connection.get_mut().write_all(request).await.expect("send");
    let mut line = String::new();
    connection.read_line(&mut line).await.expect("status line");
    if !line.starts_with("HTTP/1.1 200") {
        eprintln!("status_load: unexpected answer {line:?}");
        std::process::exit(1);
    }
    let mut length = 0;
    loop {
        line.clear();
        connection.read_line(&mut line).await.expect("header");
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().expect("content-length");
            }
        }
    }
    let mut body = vec![0u8; length];
    connection.read_exact(&mut body).await.expect("body");
}
