//! A TCP proxy on 127.0.0.1 between docker and a registry that misbehaves on purpose (std only):
//! it answers an HTTP error for the first N requests, resets a connection in the middle of a
//! request body, delays each request, or refuses everything. Docker reaches a registry at
//! `127.0.0.1:PORT` over plain HTTP, so a repository `127.0.0.1:<proxy port>/...` goes through it.
//!
//! One request per connection: the proxy rewrites each request's `Connection` header to `close`
//! (the registry then closes after its answer, and docker opens a new connection for the next
//! request), so it sees and counts every request without parsing responses; after the request
//! head the bytes are copied both ways untouched. A connection that does not start with an HTTP
//! request (dockerd tries TLS first on an insecure registry) is copied to the registry as it is,
//! uncounted, so docker gets the registry's own answer and falls back to plain HTTP.
//!
//! Every request head it reads is logged (`log`): method, path and whether the fault took it,
//! so a test can read the order in which docker wrote the tags' manifests.

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
    /// Passes the first `nth - 1` requests that match `on`, then answers `status` to that one
    /// and every later match (`nth: 1`: every match fails); others pass.
    FailFrom {
        status: u16,
        on: Requests,
        nth: usize,
    },
    /// Answers `status` to the first `first` requests that match `on`; others pass.
    FailFirst {
        status: u16,
        on: Requests,
        first: usize,
    },
    /// Answers `status` to the requests that match `on` until the first one that matches
    /// `until` has come (e.g. cache reads fail until the push begins); others pass.
    FailUntil {
        status: u16,
        on: Requests,
        until: Requests,
    },
    /// The registry goes down at the `nth` request that matches `on`: that request's
    /// connection is closed unanswered, and so is every later connection, at once.
    DownFrom { on: Requests, nth: usize },
}

/// Which requests a fault counts: by method and by a piece of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requests {
    pub methods: Methods,
    /// A piece of the request target (`/manifests/`); empty for any.
    pub path: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Methods {
    Any,
    /// GET and HEAD: a pull, a cache import, an existence check.
    Reads,
    /// POST, PUT, PATCH, DELETE: a push.
    Writes,
    /// PUT only: a blob upload's last request, or a manifest (a tag) written.
    Put,
}

impl Requests {
    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = match self.methods {
            Methods::Any => true,
            Methods::Reads => matches!(method, "GET" | "HEAD"),
            Methods::Writes => is_write(method),
            Methods::Put => method == "PUT",
        };
        method_ok && path.contains(self.path)
    }
}

fn is_write(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
}

/// One request the proxy read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    /// The request target: `/v2/e2e/app/manifests/latest`.
    pub path: String,
    /// The fault answered it with an error or dropped it (a reset in the middle of its body
    /// counts in `faulted` only).
    pub faulted: bool,
}

/// A running proxy; it stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    requests: Arc<AtomicUsize>,
    faulted: Arc<AtomicUsize>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

/// What the connection threads share besides the counters.
#[derive(Default)]
struct Shared {
    /// Requests that matched a `FailFrom`/`DownFrom` fault.
    matched: AtomicUsize,
    /// A `DownFrom` fault has struck.
    down: AtomicBool,
    /// A `FailUntil` fault has seen its `until`.
    over: AtomicBool,
    log: Mutex<Vec<Logged>>,
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
            shared: Default::default(),
            stop: Default::default(),
        };
        let (fault, requests, faulted, shared, stop) = (
            proxy.fault.clone(),
            proxy.requests.clone(),
            proxy.faulted.clone(),
            proxy.shared.clone(),
            proxy.stop.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let current = *fault.lock().unwrap();
                let (upstream, requests, faulted, shared) = (
                    upstream.clone(),
                    requests.clone(),
                    faulted.clone(),
                    shared.clone(),
                );
                std::thread::spawn(move || {
                    let _ = serve(client, &upstream, current, &requests, &faulted, &shared);
                });
            }
        });
        proxy
    }

    /// `127.0.0.1:PORT`, the registry name docker uses for the proxy.
    pub fn registry(&self) -> String {
        self.addr.to_string()
    }

    /// Changes what the proxy does from the next connection on; the counts and the log start
    /// again, and a registry that went down is up again.
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
        self.requests.store(0, Ordering::SeqCst);
        self.faulted.store(0, Ordering::SeqCst);
        self.shared.matched.store(0, Ordering::SeqCst);
        self.shared.down.store(false, Ordering::SeqCst);
        self.shared.over.store(false, Ordering::SeqCst);
        self.shared.log.lock().unwrap().clear();
    }

    /// The requests read since the start or the last `set`, in the order they came.
    pub fn log(&self) -> Vec<Logged> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The tags whose manifests were written (`PUT .../manifests/TAG`, not a digest), in order,
    /// with whether the fault took the request.
    pub fn tags_written(&self) -> Vec<(String, bool)> {
        self.log()
            .into_iter()
            .filter(|l| l.method == "PUT")
            .filter_map(|l| {
                let tag = l
                    .path
                    .rsplit_once("/manifests/")?
                    .1
                    .split('?')
                    .next()?
                    .to_string();
                (!tag.starts_with("sha256:")).then_some((tag, l.faulted))
            })
            .collect()
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
    shared: &Shared,
) -> std::io::Result<()> {
    if fault == Fault::Refuse || shared.down.load(Ordering::SeqCst) {
        faulted.fetch_add(1, Ordering::SeqCst);
        return client.shutdown(Shutdown::Both);
    }
    // Not an HTTP request (a TLS handshake): to the registry as it is.
    let mut first = [0u8; 1];
    if client.peek(&mut first)? == 1 && !first[0].is_ascii_uppercase() {
        let server = TcpStream::connect(upstream)?;
        pipe(client, server);
        return Ok(());
    }
    let (head, rest) = read_head(&mut client)?;
    requests.fetch_add(1, Ordering::SeqCst);
    let mut words = head.split(' ');
    let method = words.next().unwrap_or("").to_string();
    let path = words.next().unwrap_or("").to_string();
    let writes = is_write(&method);
    let log = |faulted: bool| {
        shared.log.lock().unwrap().push(Logged {
            method: method.clone(),
            path: path.clone(),
            faulted,
        })
    };
    // The nth match and those after it.
    let from = |on: &Requests, nth: usize| {
        on.matches(&method, &path) && shared.matched.fetch_add(1, Ordering::SeqCst) + 1 >= nth
    };
    if let Fault::DownFrom { on, nth } = fault {
        if from(&on, nth) {
            shared.down.store(true, Ordering::SeqCst);
        }
        if shared.down.load(Ordering::SeqCst) {
            log(true);
            faulted.fetch_add(1, Ordering::SeqCst);
            return client.shutdown(Shutdown::Both);
        }
    }
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
        Fault::FailFirst { status, on, first } if on.matches(&method, &path) && take(first) => {
            Some(status)
        }
        Fault::FailUntil { status, on, until } => {
            if until.matches(&method, &path) {
                shared.over.store(true, Ordering::SeqCst);
            }
            let fail = on.matches(&method, &path) && !shared.over.load(Ordering::SeqCst);
            if fail {
                faulted.fetch_add(1, Ordering::SeqCst);
            }
            fail.then_some(status)
        }
        Fault::FailFrom { status, on, nth } if from(&on, nth) => {
            faulted.fetch_add(1, Ordering::SeqCst);
            Some(status)
        }
        _ => None,
    };
    log(fail_with.is_some());
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
        request_to(proxy, method, "/v2/", body)
    }

    fn request_to(
        proxy: &FaultProxy,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> std::io::Result<(String, String)> {
        let mut s = TcpStream::connect(proxy.registry())?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Length: {}\r\n\r\n",
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

    #[test]
    fn fails_matching_requests_from_the_nth_on() {
        let (up, _) = upstream();
        let manifests = Requests {
            methods: Methods::Put,
            path: "/manifests/",
        };
        let proxy = FaultProxy::start(
            &up,
            Fault::FailFrom {
                status: 500,
                on: manifests,
                nth: 2,
            },
        );
        let status = |method: &str, path: &str| request_to(&proxy, method, path, b"x").unwrap().0;
        assert_eq!(status("PUT", "/v2/a/manifests/cache"), "HTTP/1.1 200 OK");
        assert_eq!(status("PUT", "/v2/a/blobs/uploads/1"), "HTTP/1.1 200 OK");
        assert_eq!(status("GET", "/v2/a/manifests/v1"), "HTTP/1.1 200 OK");
        assert_eq!(status("PUT", "/v2/a/manifests/v1"), "HTTP/1.1 500 Injected");
        assert_eq!(
            status("PUT", "/v2/a/manifests/sha256:ab"),
            "HTTP/1.1 500 Injected"
        );
        assert_eq!(proxy.faulted(), 2);
        assert_eq!(
            proxy.tags_written(),
            [("cache".to_string(), false), ("v1".to_string(), true)]
        );
        assert_eq!(proxy.log().len(), 5);
        // Reads of one path only.
        proxy.set(Fault::FailFrom {
            status: 503,
            on: Requests {
                methods: Methods::Reads,
                path: "/manifests/cache",
            },
            nth: 1,
        });
        assert_eq!(
            status("HEAD", "/v2/a/manifests/cache-x"),
            "HTTP/1.1 503 Injected"
        );
        assert_eq!(status("PUT", "/v2/a/manifests/cache-x"), "HTTP/1.1 200 OK");
        assert_eq!(status("GET", "/v2/a/manifests/v1"), "HTTP/1.1 200 OK");
        assert_eq!(proxy.log().len(), 3);
        proxy.set(Fault::FailFrom {
            status: 404,
            on: Requests {
                methods: Methods::Any,
                path: "/tags/",
            },
            nth: 1,
        });
        assert_eq!(status("DELETE", "/v2/a/tags/x"), "HTTP/1.1 404 Injected");
        assert_eq!(status("DELETE", "/v2/a/manifests/x"), "HTTP/1.1 200 OK");
        proxy.set(Fault::FailFirst {
            status: 429,
            on: manifests,
            first: 2,
        });
        assert_eq!(status("PUT", "/v2/a/blobs/uploads/1"), "HTTP/1.1 200 OK");
        assert_eq!(status("PUT", "/v2/a/manifests/v1"), "HTTP/1.1 429 Injected");
        assert_eq!(status("PUT", "/v2/a/manifests/v1"), "HTTP/1.1 429 Injected");
        assert_eq!(status("PUT", "/v2/a/manifests/v1"), "HTTP/1.1 200 OK");
        assert_eq!(proxy.faulted(), 2);
        proxy.set(Fault::FailUntil {
            status: 503,
            on: Requests {
                methods: Methods::Reads,
                path: "/manifests/",
            },
            until: Requests {
                methods: Methods::Writes,
                path: "",
            },
        });
        assert_eq!(status("HEAD", "/v2/a/manifests/c"), "HTTP/1.1 503 Injected");
        assert_eq!(status("GET", "/v2/a/manifests/c"), "HTTP/1.1 503 Injected");
        assert_eq!(status("POST", "/v2/a/blobs/uploads/"), "HTTP/1.1 200 OK");
        assert_eq!(status("HEAD", "/v2/a/manifests/c"), "HTTP/1.1 200 OK");
        assert_eq!(proxy.faulted(), 2);
    }

    #[test]
    fn goes_down_at_the_nth_match_and_stays_down() {
        let (up, _) = upstream();
        let proxy = FaultProxy::start(
            &up,
            Fault::DownFrom {
                on: Requests {
                    methods: Methods::Writes,
                    path: "",
                },
                nth: 1,
            },
        );
        let answered = |method: &str| {
            request(&proxy, method, b"x")
                .map(|(status, _)| !status.is_empty())
                .unwrap_or(false)
        };
        assert!(answered("GET"));
        assert!(!answered("POST"), "the first write finds it down");
        assert!(!answered("GET"), "and so does everything after it");
        assert_eq!(proxy.faulted(), 2);
        proxy.set(Fault::None);
        assert!(answered("GET"), "up again after set");
    }

    #[test]
    fn passes_a_connection_that_is_not_http_through_uncounted() {
        let (up, _) = upstream();
        let proxy = FaultProxy::start(&up, Fault::None);
        let mut s = TcpStream::connect(proxy.registry()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // A TLS record header, then a request the stand-in can read: it reached it whole.
        s.write_all(b"\x16\x03\x01 /v2/ HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:?}");
        assert_eq!(proxy.requests(), 0);
    }
}
