//! The process's memory and the machine's state, from `/proc` (Linux; zeros, `None` and
//! nothing elsewhere): resident set size now (`VmRSS`), its peak (`VmHWM`), resetting the peak
//! so that a phase's own peak can be read, the load average, and the builds (`cargo`,
//! `rustc`) running beside the harness on a shared machine.

use serde::Serialize;

/// Resident memory of this process, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub rss_kib: u64,
    /// The peak since the process started or the peak was last reset (`VmHWM`).
    pub peak_kib: u64,
}

/// This process's resident memory now.
pub fn now() -> Memory {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return Memory::default();
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Memory {
        rss_kib: field("VmRSS:"),
        peak_kib: field("VmHWM:"),
    }
}

/// Resets `VmHWM` to the current resident size (`echo 5 > /proc/self/clear_refs`), so the
/// next [`now`] shows the peak of what ran in between; false when the kernel refused.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The load average over 1, 5 and 15 minutes.
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(str::parse::<f64>);
    Some([
        fields.next()?.ok()?,
        fields.next()?.ok()?,
        fields.next()?.ok()?,
    ])
}

/// KiB as MiB, for the report.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The builds running on the machine now: processes named `cargo` or `rustc` (their ids and
/// names), read from `/proc/<pid>/comm`.
pub fn builds_running() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if let Ok(comm) = std::fs::read_to_string(entry.path().join("comm")) {
            let comm = comm.trim();
            if comm == "cargo" || comm == "rustc" {
                found.push(format!("{pid} {comm}"));
            }
        }
    }
    found
}
