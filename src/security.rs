//! The security log: refusals of requests that no principal stands behind
//! (a refused Guid, a refused sign-in, an unknown interface) are not
//! audit records, so that strangers cannot fill the trail. They are
//! counted in metrics and summed up here, per retcode and per client
//! address, into at most one log line per period.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

use parking_lot::Mutex;

/// Addresses counted one by one in a period; the rest are summed.
const ADDRESSES: usize = 1024;

/// Refusals since the last line.
#[derive(Default)]
pub struct SecurityLog {
    window: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    total: u64,
    by_retcode: BTreeMap<&'static str, u64>,
    by_address: HashMap<Option<IpAddr>, u64>,
    other_addresses: u64,
}

impl SecurityLog {
    /// Counts one refusal.
    pub fn refused(&self, retcode: &'static str, ip: Option<IpAddr>) {
        let mut window = self.window.lock();
        window.total += 1;
        *window.by_retcode.entry(retcode).or_default() += 1;
        let room = window.by_address.len() < ADDRESSES;
        match window.by_address.get_mut(&ip) {
            Some(count) => *count += 1,
            None if room => drop(window.by_address.insert(ip, 1)),
            None => window.other_addresses += 1,
        }
    }

    /// The line summing up the refusals since the last call, if any.
    pub fn take_line(&self, period: Duration) -> Option<String> {
        let window = std::mem::take(&mut *self.window.lock());
        if window.total == 0 {
            return None;
        }
        let codes: Vec<String> = window.by_retcode.iter().map(|(code, n)| format!("{code}: {n}")).collect();
        let mut addresses: Vec<(Option<IpAddr>, u64)> = window.by_address.into_iter().collect();
        addresses.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let count = addresses.len() + usize::from(window.other_addresses > 0);
        let most: Vec<String> = addresses
            .iter()
            .take(5)
            .map(|(ip, n)| format!("{} ×{n}", ip.map_or("unknown".to_owned(), |ip| ip.to_string())))
            .collect();
        let others = match window.other_addresses {
            0 => String::new(),
            n => format!(", {n} from further addresses"),
        };
        Some(format!(
            "security: refused {} request(s) without an authenticated caller in the last {} s ({}) from {count} \
             address(es); most: {}{others}",
            window.total,
            period.as_secs_f64(),
            codes.join(", "),
            most.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_sums_up_in_one_line_by_retcode_and_busiest_address_then_starts_afresh() {
        let log = SecurityLog::default();
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap());
        for _ in 0..3 {
            log.refused("000-003", Some(a));
        }
        log.refused("100-004", Some(b));
        let line = log.take_line(Duration::from_secs(10)).unwrap();
        assert_eq!(
            line,
            "security: refused 4 request(s) without an authenticated caller in the last 10 s (000-003: 3, 100-004: 1) \
             from 2 address(es); most: 127.0.0.2 ×3, 127.0.0.3 ×1"
        );
        assert_eq!(log.take_line(Duration::from_secs(10)), None);
    }

    #[test]
    fn addresses_beyond_the_bound_are_summed_not_kept() {
        let log = SecurityLog::default();
        for n in 0..(ADDRESSES as u32 + 10) {
            log.refused("000-003", Some(IpAddr::from(n.to_be_bytes())));
        }
        assert_eq!(log.window.lock().by_address.len(), ADDRESSES);
        let line = log.take_line(Duration::from_secs(1)).unwrap();
        assert!(line.contains("10 from further addresses"), "{line}");
    }
}
