//! The daemon's `GET /info`, asked over its unix socket (or plain TCP) instead of through
//! `docker info`, which first starts every CLI plugin to list it (150-350 ms measured on these
//! machines, most of the probe). HTTP/1.0, so the daemon answers with a plain body and closes
//! the connection.

use super::engine_env::DaemonAddress;
use super::probe::{daemon_from, Daemon};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How long the daemon may take to answer before the probe gives up on the socket (and asks
/// `docker info`, whose own timeouts and messages then apply).
const TIMEOUT: Duration = Duration::from_secs(10);

/// The daemon at `address`, or `None` when it cannot be asked or does not answer `200 OK`
/// with the fields of `/info`.
pub fn info(address: &DaemonAddress) -> Option<Daemon> {
    let response = match address {
        DaemonAddress::Unix(path) => {
            let stream = UnixStream::connect(path).ok()?;
            stream.set_read_timeout(Some(TIMEOUT)).ok()?;
            stream.set_write_timeout(Some(TIMEOUT)).ok()?;
            ask(stream)?
        }
        DaemonAddress::Tcp(host) => {
            let addr = host.to_socket_addrs().ok()?.next()?;
            let stream = TcpStream::connect_timeout(&addr, TIMEOUT).ok()?;
            stream.set_read_timeout(Some(TIMEOUT)).ok()?;
            stream.set_write_timeout(Some(TIMEOUT)).ok()?;
            ask(stream)?
        }
    };
    parse_response(&response)
}

/// Sends the request and reads the whole answer.
fn ask(mut stream: impl Read + Write) -> Option<Vec<u8>> {
    stream
        .write_all(b"GET /info HTTP/1.0\r\nHost: docker\r\nUser-Agent: layercache\r\n\r\n")
        .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    Some(response)
}

/// An HTTP/1.x response holding `/info`'s JSON.
fn parse_response(response: &[u8]) -> Option<Daemon> {
    let text = std::str::from_utf8(response).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.lines().next()?;
    if status.split_whitespace().nth(1) != Some("200") {
        return None;
    }
    let info: serde_json::Value = serde_json::from_str(body).ok()?;
    daemon_from(info["ServerVersion"].as_str()?, &info["DriverStatus"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::ImageStore;
    use std::net::TcpListener;
    use std::os::unix::net::UnixListener;
    use std::path::Path;

    fn recorded_info(engine: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/engines/{engine}/buildkit-info-json.stdout",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// A daemon stand-in on a socket: reads one request, answers `reply`, hands back the request.
    fn serve_once(socket: &Path, reply: String) -> std::thread::JoinHandle<String> {
        let listener = UnixListener::bind(socket).unwrap();
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let n = conn.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            conn.write_all(reply.as_bytes()).unwrap();
            String::from_utf8(request).unwrap()
        })
    }

    #[test]
    fn the_daemon_is_read_from_its_socket() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        // The recorded `docker info --format '{{json .}}'` of the 28.5 containerd-store engine
        // holds the API's fields under the same names.
        let body = recorded_info("28.5-containerd");
        let server = serve_once(
            &socket,
            format!("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{body}"),
        );
        let daemon = info(&DaemonAddress::Unix(socket.clone())).expect("daemon");
        assert_eq!(daemon.version, "28.5.2+dfsg4");
        assert_eq!(daemon.version_number, Some((28, 5)));
        assert_eq!(daemon.store, ImageStore::Containerd);
        assert!(server.join().unwrap().starts_with("GET /info HTTP/1.0\r\n"));
    }

    #[test]
    fn a_daemon_on_plain_tcp_is_asked_the_same_way() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let body = recorded_info("26.1-classic");
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = [0u8; 512];
            let n = conn.read(&mut request).unwrap();
            conn.write_all(format!("HTTP/1.0 200 OK\r\n\r\n{body}").as_bytes())
                .unwrap();
            String::from_utf8_lossy(&request[..n]).into_owned()
        });
        let daemon = info(&DaemonAddress::Tcp(host)).expect("daemon");
        assert_eq!(daemon.version_number, Some((26, 1)));
        assert!(server.join().unwrap().starts_with("GET /info HTTP/1.0\r\n"));
    }

    #[test]
    fn each_recorded_engine_reads_the_same_as_through_docker_info() {
        for (engine, store) in [
            ("20.10", ImageStore::Classic),
            ("26.1-classic", ImageStore::Classic),
            ("26.1-containerd", ImageStore::Containerd),
            ("28.5-classic", ImageStore::Classic),
        ] {
            let response = format!("HTTP/1.1 200 OK\r\n\r\n{}", recorded_info(engine));
            let daemon = parse_response(response.as_bytes()).expect(engine);
            assert_eq!(daemon.store, store, "{engine}");
        }
    }

    #[test]
    fn no_daemon_or_an_error_answer_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            info(&DaemonAddress::Unix(dir.path().join("none.sock"))),
            None
        );
        let refused = "HTTP/1.0 500 Internal Server Error\r\n\r\n{\"message\":\"x\"}";
        assert_eq!(parse_response(refused.as_bytes()), None);
        assert_eq!(parse_response(b"HTTP/1.0 200 OK\r\n\r\n{}"), None);
        assert_eq!(parse_response(b"garbage"), None);
    }
}
