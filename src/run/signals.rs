//! SIGINT and SIGTERM during a run: forwarded to the running docker command, remembered so
//! that no further step (in particular no push) starts.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Catches SIGINT and SIGTERM for the whole run: forwards each to the docker child running at
/// the time and remembers the first, so the executor waits for the child, then runs no
/// further step (in particular no push).
pub struct Interrupts {
    child: Arc<AtomicI32>,
    received: Arc<AtomicI32>,
}

impl Interrupts {
    pub fn install() -> std::io::Result<Interrupts> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let child = Arc::new(AtomicI32::new(0));
        let received = Arc::new(AtomicI32::new(0));
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let (c, r) = (child.clone(), received.clone());
        std::thread::spawn(move || {
            for signal in signals.forever() {
                let _ = r.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
                forward(c.load(Ordering::SeqCst), signal);
            }
        });
        Ok(Interrupts { child, received })
    }

    /// One that never receives anything: for the clean-up steps that must run to their end.
    pub(crate) fn none() -> Interrupts {
        Interrupts {
            child: Arc::new(AtomicI32::new(0)),
            received: Arc::new(AtomicI32::new(0)),
        }
    }

    pub(crate) fn received(&self) -> Option<i32> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }

    pub(crate) fn child_started(&self, pid: u32) {
        let pid = i32::try_from(pid).unwrap_or(0);
        self.child.store(pid, Ordering::SeqCst);
        // A signal that came between spawn and now found no child to forward to.
        if let Some(signal) = self.received() {
            forward(pid, signal);
        }
    }

    /// Sleeps, waking early for a signal; true when the whole time passed.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        let until = Instant::now() + duration;
        while Instant::now() < until {
            if self.received().is_some() {
                return false;
            }
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
        }
        self.received().is_none()
    }

    pub(crate) fn child_ended(&self) {
        self.child.store(0, Ordering::SeqCst);
    }
}

fn forward(pid: i32, signal: i32) {
    if pid > 0 {
        // SAFETY: kill(2) with a pid we spawned and a valid signal number has no memory effects.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}
