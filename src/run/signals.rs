//! SIGINT and SIGTERM during a run: forwarded to every running docker command, remembered so
//! that no further step (in particular no push) starts. The executor also stops the running
//! commands itself, the same way, when an image fails and the run is not `--keep-going`.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Catches SIGINT and SIGTERM for the whole run: forwards each to every docker child running
/// at the time and remembers the first, so the executor waits for the children, then runs no
/// further step (in particular no push).
pub struct Interrupts {
    /// The process ids of the docker commands running now (several when steps run at once).
    children: Arc<Mutex<Vec<i32>>>,
    /// The first signal received, or 0.
    received: Arc<AtomicI32>,
    /// The signal the executor sent to stop the running commands (another step failed), or 0.
    stopped: AtomicI32,
}

impl Interrupts {
    pub fn install() -> std::io::Result<Interrupts> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let children = Arc::new(Mutex::new(Vec::new()));
        let received = Arc::new(AtomicI32::new(0));
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let (c, r) = (children.clone(), received.clone());
        std::thread::spawn(move || {
            for signal in signals.forever() {
                let _ = r.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
                forward_all(&c, signal);
            }
        });
        Ok(Interrupts {
            children,
            received,
            stopped: AtomicI32::new(0),
        })
    }

    /// One that never receives anything: for the clean-up steps that must run to their end.
    pub(crate) fn none() -> Interrupts {
        Interrupts {
            children: Arc::new(Mutex::new(Vec::new())),
            received: Arc::new(AtomicI32::new(0)),
            stopped: AtomicI32::new(0),
        }
    }

    /// The signal the user sent, if any.
    pub(crate) fn received(&self) -> Option<i32> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }

    /// Whether no new docker command may start: a signal came, or the executor stopped the run.
    pub(crate) fn halted(&self) -> bool {
        self.received().is_some() || self.stopped.load(Ordering::SeqCst) != 0
    }

    /// Stops every running docker command with `signal` (as Ctrl-C would), and any started
    /// after this (a retry racing the stop).
    pub(crate) fn stop_all(&self, signal: i32) {
        let _ = self
            .stopped
            .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
        forward_all(&self.children, signal);
    }

    pub(crate) fn child_started(&self, pid: u32) {
        let pid = i32::try_from(pid).unwrap_or(0);
        if let Ok(mut children) = self.children.lock() {
            children.push(pid);
        }
        // A signal that came between spawn and now found no child to forward to.
        let late = match self.received() {
            Some(signal) => signal,
            None => self.stopped.load(Ordering::SeqCst),
        };
        if late != 0 {
            forward(pid, late);
        }
    }

    /// Sleeps, waking early for a signal or a stop; true when the whole time passed.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        let until = Instant::now() + duration;
        while Instant::now() < until {
            if self.halted() {
                return false;
            }
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
        }
        !self.halted()
    }

    pub(crate) fn child_ended(&self, pid: u32) {
        let pid = i32::try_from(pid).unwrap_or(0);
        if let Ok(mut children) = self.children.lock() {
            children.retain(|&c| c != pid);
        }
    }
}

fn forward_all(children: &Mutex<Vec<i32>>, signal: i32) {
    // A poisoned lock still holds the list: forward anyway.
    let pids = match children.lock() {
        Ok(c) => c.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    for pid in pids {
        forward(pid, signal);
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
