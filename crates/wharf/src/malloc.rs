//! glibc's allocator, tuned for a process that frees many 1 MiB buffers (edge cache chunks).
//!
//! By default glibc gives each thread that meets contention an arena of its own, up to
//! 8 × cores, and an arena keeps freed memory for reuse instead of returning it. With cache
//! chunks allocated on one thread and freed on another, every arena ends up holding its own
//! pool of freed 1 MiB buffers: measured with a 256 MiB memory tier after a 1 GiB object was
//! read twice from the disk tier, peak RSS was 488 MiB with the default and 310 MiB with one
//! arena per core (and hit throughput rose, from 3.4 to 3.6 GB/s, with fewer fresh pages).
//! Pinning the mmap threshold instead bounds RSS too but halves throughput (every chunk
//! buffer becomes a fresh mmap whose pages fault in).

/// Limits glibc to one malloc arena per core. Call before any thread is started.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn limit_arenas() {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let arenas = libc::c_int::try_from(cores.max(2)).unwrap_or(2);
    // SAFETY: mallopt only sets an allocator parameter; it is called from `main` before the
    // runtime starts any thread, and M_ARENA_MAX accepts any positive count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_arenas() {}
