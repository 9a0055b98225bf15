//! Test servers shared by the connectors' tests (feature `_testing`). Not part of the API: no
//! semver promise covers this module.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How much more than a client's cap a flooding server may get rid of before it sees the client
/// hang up: what the loopback sockets buffer (the server's send buffer is kept small, the
/// client's receive buffer is Linux's to grow) and the client's read buffer. Measured at under
/// 2 MiB; the bound leaves a wide margin so that only a client without a cap fails it.
pub const FLOOD_SLACK_BYTES: u64 = 16 << 20;

/// The most body bytes a [`FloodServer`] sends on one connection: 64 MiB, more than the largest
/// cap (8 MiB) plus [`FLOOD_SLACK_BYTES`]. It stands for "endless" while keeping a client without
/// a cap from hanging the test until its timeout: such a client takes all of it, which the test
/// sees in [`FloodServer::body_sent`].
pub const FLOOD_GUARD_BYTES: u64 = 64 << 20;

/// How a [`FloodServer`] frames its endless body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flood {
    /// `Transfer-Encoding: chunked`, no length announced, never ending.
    Chunked,
    /// `Content-Length` announces this many bytes, and the server sends them.
    Announced(u64),
}

/// An HTTP/1.1 server on 127.0.0.1 that answers every request with `status` and an endless JSON
/// body (`"xxx…`), and reports how many body bytes it got rid of on each connection before
/// the client hung up (or [`FLOOD_GUARD_BYTES`] were sent).
#[derive(Debug)]
pub struct FloodServer {
    addr: SocketAddr,
    sent: mpsc::UnboundedReceiver<u64>,
}

impl FloodServer {
    /// Starts the server.
    pub async fn start(status: u16, flood: Flood) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        // A small send buffer (accepted sockets inherit it) keeps what the kernel absorbs after
        // the client stopped reading small.
        socket.set_send_buffer_size(64 << 10).expect("SO_SNDBUF");
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("bind");
        let listener = socket.listen(16).expect("listen");
        let addr = listener.local_addr().expect("local address");
        let (tx, sent) = mpsc::unbounded_channel();
        tokio::spawn(accept(listener, status, flood, tx));
        Self { addr, sent }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The body bytes sent on the next connection to end, waiting for it to end.
    pub async fn body_sent(&mut self) -> u64 {
        self.sent.recv().await.expect("the flood server stopped")
    }

    /// How many connections have ended since the last [`body_sent`](Self::body_sent) calls
    /// took theirs (a client that retried made more than one).
    pub fn ended_connections(&self) -> usize {
        self.sent.len()
    }
}

async fn accept(listener: TcpListener, status: u16, flood: Flood, tx: mpsc::UnboundedSender<u64>) {
    while let Ok((socket, _)) = listener.accept().await {
        let tx = tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(serve(socket, status, flood).await);
        });
    }
}

/// Reads the request (head and `Content-Length` body), then floods; returns the body bytes sent.
async fn serve(mut socket: TcpStream, status: u16, flood: Flood) -> u64 {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return 0,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body_read = request.len() - head_end;
    while body_read < length {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return 0,
            Ok(n) => body_read += n,
        }
    }

    let framing = match flood {
        Flood::Chunked => "transfer-encoding: chunked".to_owned(),
        Flood::Announced(len) => format!("content-length: {len}"),
    };
    let head =
        format!("HTTP/1.1 {status} Flood\r\ncontent-type: application/json\r\n{framing}\r\n\r\n");
    if socket.write_all(head.as_bytes()).await.is_err() {
        return 0;
    }
    let limit = match flood {
        Flood::Chunked => FLOOD_GUARD_BYTES,
        Flood::Announced(len) => len.min(FLOOD_GUARD_BYTES),
    };
    // An unterminated JSON string: a valid prefix, and cheap for a client without a cap to scan.
    let opening = b"\"".to_vec();
    let piece = b"x".repeat(64 << 10);
    let mut sent = 0u64;
    while sent < limit {
        let room = usize::try_from(limit - sent).unwrap_or(usize::MAX);
        let next = if sent == 0 { &opening } else { &piece };
        let data = &next[..next.len().min(room)];
        let written = match flood {
            Flood::Chunked => {
                let size = format!("{:x}\r\n", data.len());
                socket.write_all(size.as_bytes()).await.is_ok()
                    && socket.write_all(data).await.is_ok()
                    && socket.write_all(b"\r\n").await.is_ok()
            }
            Flood::Announced(_) => socket.write_all(data).await.is_ok(),
        };
        if !written {
            return sent;
        }
        sent += data.len() as u64;
    }
    if flood == Flood::Chunked {
        let _ = socket.write_all(b"0\r\n\r\n").await;
    }
    let _ = socket.shutdown().await;
    sent
}
