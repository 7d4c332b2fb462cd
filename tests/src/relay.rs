//! A TCP relay on this host whose open connections can be made to go
//! silent: what a connection whose far end vanished without a word looks
//! like (a coordinator's host lost, a FIN that never arrived, a NAT that
//! forgot the flow). The near end sees no error: what it writes is taken
//! and dropped, and nothing comes back. Connections made after that pass
//! as usual.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Each open connection's switch: set, it is silent for good.
type Switches = Arc<Mutex<Vec<Arc<AtomicBool>>>>;

/// A relay from a port of its own to `127.0.0.1:target`. Its threads end
/// with the test process.
pub struct Relay {
    port: u16,
    open: Switches,
}

impl Relay {
    /// Starts relaying to `127.0.0.1:target`.
    pub fn start(target: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let port = listener.local_addr().expect("relay address").port();
        let open: Switches = Arc::default();
        let switches = open.clone();
        std::thread::spawn(move || {
            for near in listener.incoming().flatten() {
                let Ok(far) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let silent = Arc::new(AtomicBool::new(false));
                switches
                    .lock()
                    .expect("relay switches")
                    .push(silent.clone());
                relay(near, far, silent);
            }
        });
        Relay { port, open }
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every connection open now goes silent for good.
    pub fn silence_open_connections(&self) {
        for s in self.open.lock().expect("relay switches").drain(..) {
            s.store(true, Ordering::SeqCst);
        }
    }
}

/// Copies both ways between `near` and `far` until either side ends,
/// passing the end on; once `silent`, the near side's bytes are dropped,
/// nothing reaches it, and it is kept open whatever the far side does.
fn relay(near: TcpStream, far: TcpStream, silent: Arc<AtomicBool>) {
    let (Ok(near_in), Ok(far_out)) = (near.try_clone(), far.try_clone()) else {
        return;
    };
    let up = silent.clone();
    std::thread::spawn(move || copy(near_in, far_out, &up, false));
    std::thread::spawn(move || copy(far, near, &silent, true));
}

/// One direction: `to_near` tells whether `to` is the near side, which a
/// silent connection never closes.
fn copy(mut from: TcpStream, mut to: TcpStream, silent: &AtomicBool, to_near: bool) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if silent.load(Ordering::SeqCst) {
            if to_near {
                break;
            }
            continue;
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    if silent.load(Ordering::SeqCst) && to_near {
        // The near side keeps its socket: leak it rather than close it.
        std::mem::forget(to);
        return;
    }
    let _ = to.shutdown(Shutdown::Write);
}
