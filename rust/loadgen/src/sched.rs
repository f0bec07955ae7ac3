//! What the sender asks of the kernel so that a message leaves at its time on a machine
//! whose cores the target and other work share (see README.md, "Where the send error comes
//! from"): real-time priority for the writers, a fine timer slack, a deep send buffer.

use std::os::fd::RawFd;

unsafe extern "C" {
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    fn sched_setscheduler(pid: i32, policy: i32, param: *const i32) -> i32;
    fn setsockopt(fd: i32, level: i32, name: i32, value: *const i32, size: u32) -> i32;
}

const SCHED_FIFO: i32 = 1;
const SOL_SOCKET: i32 = 1;
const SO_SNDBUF: i32 = 7;
const SO_SNDBUFFORCE: i32 = 32;

/// Real-time priorities: a writer preempts the readers, both preempt ordinary threads.
pub const WRITER_PRIORITY: i32 = 20;
pub const READER_PRIORITY: i32 = 10;

/// Sleeps wake within ~1 µs of their deadline instead of the default 50 µs slack
/// (inherited by the threads spawned later; real-time threads have none anyway).
pub fn tighten_timer_slack() {
    const PR_SET_TIMERSLACK: i32 = 29;
    // SAFETY: prctl with PR_SET_TIMERSLACK takes a plain integer and touches no memory.
    unsafe {
        prctl(PR_SET_TIMERSLACK, 1_000, 0, 0, 0);
    }
}

/// Run the calling thread under SCHED_FIFO at `priority`: it then runs the moment its
/// sleep ends instead of waiting for the fair scheduler to give it a core (milliseconds on
/// a busy machine). Its loops sleep or block between sends and never spin, so it cannot
/// starve the target. False when not permitted (no CAP_SYS_NICE, no RLIMIT_RTPRIO).
pub fn realtime(priority: i32) -> bool {
    // SAFETY: pid 0 is the calling thread; the param is one int (sched_priority), read only.
    unsafe { sched_setscheduler(0, SCHED_FIFO, &priority) == 0 }
}

/// Ask for a send buffer of `bytes` (forced past the system's maximum where permitted):
/// a target that stops reading for a moment then holds back fewer sends. The bytes queued
/// there count as sent: they have left the sender, as they would be on a network.
pub fn send_buffer(fd: RawFd, bytes: i32) {
    let size = std::mem::size_of::<i32>() as u32;
    // SAFETY: setsockopt reads one int from the pointer; a failure leaves the socket as it was.
    unsafe {
        if setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, size) != 0 {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, size);
        }
    }
}
