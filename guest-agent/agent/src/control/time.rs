//! `time-sync`: the VM's clock set to the host's (after boot, resume, and every minute;
//! a guest clock that drifts breaks TLS, make and log ordering).

use berth_protocol::Response;
use nix::sys::time::TimeSpec;
use nix::time::{clock_settime, ClockId};

use super::Context;

pub fn sync(ctx: &Context, unix_nanos: i64) -> Response {
    if ctx.vm.is_none() {
        return Response::Error {
            message: "time-sync sets the VM's clock; this agent runs natively and leaves the \
                      host's clock alone"
                .into(),
        };
    }
    let (secs, nanos) = split(unix_nanos);
    match clock_settime(ClockId::CLOCK_REALTIME, TimeSpec::new(secs, nanos)) {
        Ok(()) => Response::Ok,
        Err(e) => Response::Error {
            message: format!("Cannot set the clock: {e}"),
        },
    }
}

/// Seconds and a non-negative nanosecond part (times before 1970 included).
fn split(unix_nanos: i64) -> (i64, i64) {
    (
        unix_nanos.div_euclid(1_000_000_000),
        unix_nanos.rem_euclid(1_000_000_000),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn nanos_split() {
        assert_eq!(
            super::split(1_700_000_000_123_456_789),
            (1_700_000_000, 123_456_789)
        );
        assert_eq!(super::split(-1), (-1, 999_999_999));
    }
}
