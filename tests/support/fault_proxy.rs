//! A TCP proxy on 127.0.0.1 between docker and a registry that misbehaves on purpose (std only):
//! it answers an HTTP error for the first N requests, resets a connection in the middle of a
//! request body, delays each request, or refuses everything. Docker reaches a registry at
//! `127.0.0.1:PORT` over plain HTTP, so a repository `127.0.0.1:<proxy port>/...` goes through it.
//!
//! One request per connection: the proxy rewrites each request's `Connection` header to `close`
//! (the registry then closes after its answer, and docker opens a new connection for the next
//! request), so it sees and counts every request without parsing responses; after the request
//! head the bytes are copied both ways untouched.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to the requests it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Passes everything through.
    None,
    /// Answers `status` (e.g. 503, 429 with `Retry-After: 0`) to the first `first` requests
    /// that write (POST, PUT, PATCH, DELETE: a push), passing reads and later writes through.
    FailWrites { status: u16, first: usize },
    /// Answers `status` to the first `first` requests of any kind.
    FailAll { status: u16, first: usize },
    /// For the first `first` requests with a body: forwards the head and up to `after` bytes of
    /// the body, then drops both connections with the rest unread (the kernel sends a reset).
    ResetMidBody { first: usize, after: usize },
    /// Waits this long before forwarding each request.
    Delay(Duration),
    /// Accepts each connection and closes it at once, reading nothing: the registry is down.
    Refuse,
}

/// A running proxy; it stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    requests: Arc<AtomicUsize>,
    faulted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `upstream` (`HOST:PORT`).
    pub fn start(upstream: &str, fault: Fault) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let addr = listener.local_addr().expect("local address");
        let upstream = upstream.to_string();
        let proxy = FaultProxy {
            addr,
            fault: Arc::new(Mutex::new(fault)),
            requests: Default::default(),
            faulted: Default::default(),
            stop: Default::default(),
        };
        let (fault, requests, faulted, stop) = (
            proxy.fault.clone(),
            proxy.requests.clone(),
            proxy.faulted.clone(),
            proxy.stop.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let current = *fault.lock().unwrap();
                let (upstream, requests, faulted) =
                    (upstream.clone(), requests.clone(), faulted.clone());
                std::thread::spawn(move || {
                    let _ = serve(client, &upstream, current, &requests, &faulted);
                });
            }
        });
        proxy
    }

    /// `127.0.0.1:PORT`, the registry name docker uses for the proxy.
    pub fn registry(&self) -> String {
        self.addr.to_string()
    }

    /// Changes what the proxy does from the next connection on; the counts start again.
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
        self.requests.store(0, Ordering::SeqCst);
        self.faulted.store(0, Ordering::SeqCst);
    }

    /// Requests seen (request heads read) since the start or the last `set`.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Requests the fault was applied to.
    pub fn faulted(&self) -> usize {
        self.faulted.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    mut client: TcpStream,
    upstream: &str,
    fault: Fault,
    requests: &AtomicUsize,
    faulted: &AtomicUsize,
) -> std::io::Result<()> {
    if fault == Fault::Refuse {
        faulted.fetch_add(1, Ordering::SeqCst);
        return client.shutdown(Shutdown::Both);
    }
    let (head, rest) = read_head(&mut client)?;
    requests.fetch_add(1, Ordering::SeqCst);
    let method = head.split(' ').next().unwrap_or("").to_string();
    let writes = matches!(method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE");
    // Counts the request against the fault's budget; true while it lasts.
    let take = |first: usize| {
        faulted
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < first).then_some(n + 1)
            })
            .is_ok()
    };
    let fail_with = match fault {
        Fault::FailWrites { status, first } if writes && take(first) => Some(status),
        Fault::FailAll { status, first } if take(first) => Some(status),
        _ => None,
    };
    if let Some(status) = fail_with {
        let answer = format!(
            "HTTP/1.1 {status} Injected\r\nContent-Type: application/json\r\nRetry-After: 0\r\n\
             Content-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        );
        client.write_all(answer.as_bytes())?;
        // Lets docker finish sending what it was sending, so it reads the answer, not a reset.
        let _ = client.set_read_timeout(Some(Duration::from_millis(200)));
        let _ = std::io::copy(&mut client, &mut std::io::sink());
        return Ok(());
    }
    if let Fault::Delay(delay) = fault {
        std::thread::sleep(delay);
    }
    let mut server = TcpStream::connect(upstream)?;
    server.write_all(close_connection(&head).as_bytes())?;
    if let Fault::ResetMidBody { first, after } = fault {
        let has_body = head.lines().any(|l| {
            let l = l.to_ascii_lowercase();
            (l.starts_with("content-length:") && l[15..].trim() != "0")
                || l.starts_with("transfer-encoding:")
        });
        if has_body && take(first) {
            let mut sent = rest.len().min(after);
            server.write_all(&rest[..sent])?;
            let mut buf = [0u8; 8192];
            while sent < after {
                let n = client.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                let n = n.min(after - sent);
                server.write_all(&buf[..n])?;
                sent += n;
            }
            // Dropped with unread data: a reset to docker, a cut upload to the registry.
            drop(server);
            drop(client);
            return Ok(());
        }
    }
    server.write_all(&rest)?;
    pipe(client, server);
    Ok(())
}

/// Reads up to the end of the request head; returns the head and any body bytes read with it.
fn read_head(client: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = data.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&data).into_owned(), rest));
        }
        let n = client.read(&mut buf)?;
        if n == 0 || data.len() > 1 << 20 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        data.extend_from_slice(&buf[..n]);
    }
}

/// The head with its `Connection` header replaced by `Connection: close`.
fn close_connection(head: &str) -> String {
    let mut lines: Vec<&str> = head
        .trim_end_matches("\r\n")
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    lines.join("\r\n") + "\r\n\r\n"
}

/// Copies both ways until each side is done.
fn pipe(client: TcpStream, server: TcpStream) {
    let (mut c_read, mut s_write) = (
        client.try_clone().expect("clone"),
        server.try_clone().expect("clone"),
    );
    let upload = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c_read, &mut s_write);
        let _ = s_write.shutdown(Shutdown::Write);
    });
    let (mut s_read, mut c_write) = (server, client);
    let _ = std::io::copy(&mut s_read, &mut c_write);
    let _ = c_write.shutdown(Shutdown::Both);
    let _ = upload.join();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A registry stand-in: answers every request `200 OK` with the request's method and body
    /// length, and counts the requests it got whole.
    fn upstream() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let whole = Arc::new(AtomicUsize::new(0));
        let counted = whole.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let counted = counted.clone();
                std::thread::spawn(move || {
                    let Ok((head, mut body)) = read_head(&mut stream) else {
                        return;
                    };
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    let mut buf = [0u8; 8192];
                    while body.len() < length {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => body.extend_from_slice(&buf[..n]),
                        }
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let text = format!("{} {}", head.split(' ').next().unwrap(), body.len());
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    );
                });
            }
        });
        (addr, whole)
    }

    /// One request through the proxy: the status line and the body, or the I/O error.
    fn request(proxy: &FaultProxy, method: &str, body: &[u8]) -> std::io::Result<(String, String)> {
        let mut s = TcpStream::connect(proxy.registry())?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            s,
            "{method} /v2/ HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )?;
        for chunk in body.chunks(64 * 1024) {
            s.write_all(chunk)?;
        }
        let mut answer = String::new();
        s.read_to_string(&mut answer)?;
        let status = answer.lines().next().unwrap_or("").to_string();
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
        Ok((status, body))
    }

    #[test]
    fn passes_requests_through_one_per_connection() {
        let (up, whole) = upstream();
        let proxy = FaultProxy::start(&up, Fault::None);
        let (status, body) = request(&proxy, "PUT", &[7; 100_000]).unwrap();
        assert_eq!(
            (status.as_str(), body.as_str()),
            ("HTTP/1.1 200 OK", "PUT 100000")
        );
        assert_eq!(request(&proxy, "GET", b"").unwrap().1, "GET 0");
        assert_eq!((proxy.requests(), whole.load(Ordering::SeqCst)), (2, 2));
        assert_eq!(
            close_connection("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"),
            "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn fails_the_first_writes_then_passes_them() {
        let (up, whole) = upstream();
        let proxy = FaultProxy::start(
            &up,
            Fault::FailWrites {
                status: 503,
                first: 2,
            },
        );
        assert_eq!(request(&proxy, "GET", b"").unwrap().0, "HTTP/1.1 200 OK");
        assert_eq!(
            request(&proxy, "PUT", b"abc").unwrap().0,
            "HTTP/1.1 503 Injected"
        );
        assert_eq!(
            request(&proxy, "POST", b"").unwrap().0,
            "HTTP/1.1 503 Injected"
        );
        assert_eq!(request(&proxy, "PUT", b"abc").unwrap().1, "PUT 3");
        assert_eq!((proxy.faulted(), whole.load(Ordering::SeqCst)), (2, 2));
        proxy.set(Fault::FailAll {
            status: 429,
            first: 1,
        });
        assert_eq!(
            request(&proxy, "GET", b"").unwrap().0,
            "HTTP/1.1 429 Injected"
        );
        assert_eq!(request(&proxy, "GET", b"").unwrap().0, "HTTP/1.1 200 OK");
    }

    #[test]
    fn resets_an_upload_in_the_middle_of_its_body() {
        let (up, whole) = upstream();
        let proxy = FaultProxy::start(
            &up,
            Fault::ResetMidBody {
                first: 1,
                after: 1000,
            },
        );
        let cut = request(&proxy, "PUT", &[1; 4 << 20]);
        assert!(
            cut.as_ref().map_or(true, |(status, _)| status.is_empty()),
            "{cut:?}"
        );
        assert_eq!(
            whole.load(Ordering::SeqCst),
            0,
            "the registry got no whole request"
        );
        // The next one goes through.
        assert_eq!(request(&proxy, "PUT", &[1; 5000]).unwrap().1, "PUT 5000");
    }

    #[test]
    fn delays_and_refuses() {
        let (up, _) = upstream();
        let proxy = FaultProxy::start(&up, Fault::Delay(Duration::from_millis(300)));
        let started = Instant::now();
        assert_eq!(request(&proxy, "GET", b"").unwrap().0, "HTTP/1.1 200 OK");
        assert!(started.elapsed() >= Duration::from_millis(300));
        proxy.set(Fault::Refuse);
        let refused = request(&proxy, "GET", b"");
        assert!(
            refused
                .as_ref()
                .map_or(true, |(status, _)| status.is_empty()),
            "{refused:?}"
        );
        assert_eq!(proxy.faulted(), 1);
    }
}
