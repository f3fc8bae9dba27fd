//! Single-text forward passes spread over threads. An encoder's texts (a sentence, a Key
//! Development) are short: one forward pass is a few small matrix products that libtorch's
//! intra-op threads split poorly (packing and synchronization take more time than the products).
//! So each text runs on its own, with one intra-op thread, on one of several replicas of the
//! model, and the cores work on different texts. A text's output then depends on nothing but
//! the text: not on the batch, the thread that ran it, `--model-threads` or shards.
use kpeval::error::{Error, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

type SetThreads = unsafe extern "C" fn(libc::c_int);
type GetThreads = unsafe extern "C" fn() -> libc::c_int;
type SetLocal = unsafe extern "C" fn(libc::c_int) -> libc::c_int;

/// libtorch's per-thread thread settings: OpenMP's (ATen's parallel loops) and MKL's
/// thread-local one (matrix products), looked up in the loaded libtorch.
struct Threading {
    omp_set: SetThreads,
    omp_get: GetThreads,
    mkl_set_local: Option<SetLocal>,
}

fn threading() -> Option<&'static Threading> {
    static T: OnceLock<Option<Threading>> = OnceLock::new();
    T.get_or_init(|| {
        let sym = |name: &std::ffi::CStr| {
            // SAFETY: dlsym with RTLD_DEFAULT only looks a name up in the loaded objects.
            let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
            (!p.is_null()).then_some(p)
        };
        let omp_set = sym(c"omp_set_num_threads")?;
        let omp_get = sym(c"omp_get_max_threads")?;
        // MKL's C name (mkl_service.h maps mkl_set_num_threads_local to it; the lower-case
        // symbol is the Fortran binding, which takes a pointer)
        let mkl = sym(c"MKL_Set_Num_Threads_Local");
        // SAFETY: the symbols are OpenMP's and MKL's C functions with these signatures.
        unsafe {
            Some(Threading {
                omp_set: std::mem::transmute::<*mut libc::c_void, SetThreads>(omp_set),
                omp_get: std::mem::transmute::<*mut libc::c_void, GetThreads>(omp_get),
                mkl_set_local: mkl.map(|p| std::mem::transmute::<*mut libc::c_void, SetLocal>(p)),
            })
        }
    })
    .as_ref()
}

/// Whether forward passes can run with one intra-op thread on the calling thread only (the
/// loaded libtorch exports OpenMP's thread settings); else they use libtorch's global setting.
pub fn single_threaded_forwards() -> bool {
    threading().is_some()
}

/// While alive, libtorch runs the calling thread's operations on that thread alone (OpenMP and
/// MKL thread-local settings); the previous settings come back on drop.
pub(crate) struct OneThread {
    prev_omp: libc::c_int,
    prev_mkl: Option<libc::c_int>,
}

impl OneThread {
    pub(crate) fn enter() -> Option<OneThread> {
        let t = threading()?;
        // ATen sets a thread's OpenMP/MKL threads on its first use of that thread: first, so
        // that it does not undo what follows.
        let _ = tch::get_num_threads();
        // SAFETY: plain C calls on the calling thread's own settings.
        unsafe {
            let prev_omp = (t.omp_get)();
            (t.omp_set)(1);
            let prev_mkl = t.mkl_set_local.map(|f| f(1));
            Some(OneThread { prev_omp, prev_mkl })
        }
    }
}

impl Drop for OneThread {
    fn drop(&mut self) {
        if let Some(t) = threading() {
            // SAFETY: as in `enter`.
            unsafe {
                (t.omp_set)(self.prev_omp.max(1));
                if let (Some(f), Some(p)) = (t.mkl_set_local, self.prev_mkl) {
                    f(p);
                }
            }
        }
    }
}

/// Replicas of a model, each used by one thread at a time.
pub(crate) struct Replicas<M> {
    models: Vec<Mutex<M>>,
    next: AtomicUsize,
}

impl<M: Send> Replicas<M> {
    /// `n` replicas (at least one), the first made by `first`, the others by `more` from it.
    pub fn new(n: usize, first: M, more: impl Fn(&M) -> Result<M>) -> Result<Self> {
        let mut models = Vec::with_capacity(n.max(1));
        let copies = (1..n.max(1)).map(|_| more(&first)).collect::<Result<Vec<M>>>()?;
        models.push(Mutex::new(first));
        models.extend(copies.into_iter().map(Mutex::new));
        Ok(Replicas { models, next: AtomicUsize::new(0) })
    }

    /// How many replicas there are (texts computed at once).
    pub fn len(&self) -> usize {
        self.models.len()
    }

    fn lock(&self, i: usize) -> MutexGuard<'_, M> {
        // a forward pass does not change the model: a panic in one leaves it usable
        self.models[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A free replica, else the next in turn (waiting for it).
    fn acquire(&self) -> MutexGuard<'_, M> {
        for m in &self.models {
            if let Ok(g) = m.try_lock() {
                return g;
            }
        }
        self.lock(self.next.fetch_add(1, Ordering::Relaxed) % self.models.len())
    }

    /// The first replica, for work that uses libtorch's own threads (padded batches).
    pub fn first(&self) -> MutexGuard<'_, M> {
        self.lock(0)
    }

    /// `f` on every item, in order, each alone on one intra-op thread, spread over the replicas
    /// (one thread per replica). Stops at the first error.
    pub fn map<I: Sync, T: Send>(
        &self,
        items: &[I],
        f: impl Fn(&M, &I) -> Result<T> + Sync,
    ) -> Result<Vec<T>> {
        let workers = self.models.len().min(items.len());
        if workers <= 1 {
            let m = self.acquire();
            let _one = OneThread::enter();
            return items.iter().map(|i| f(&m, i)).collect();
        }
        let next = AtomicUsize::new(0);
        let failed = std::sync::atomic::AtomicBool::new(false);
        let parts: Vec<Vec<(usize, Result<T>)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    let (next, failed, f) = (&next, &failed, &f);
                    s.spawn(move || {
                        let m = self.lock(w);
                        let _one = OneThread::enter();
                        let mut out = Vec::new();
                        while !failed.load(Ordering::Relaxed) {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(item) = items.get(i) else { break };
                            let r = f(&m, item);
                            if r.is_err() {
                                failed.store(true, Ordering::Relaxed);
                            }
                            out.push((i, r));
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        vec![(usize::MAX, Err(Error::model("a forward-pass thread panicked")))]
                    })
                })
                .collect()
        });
        let mut slots: Vec<Option<T>> = (0..items.len()).map(|_| None).collect();
        let mut first_err: Option<(usize, Error)> = None;
        for (i, r) in parts.into_iter().flatten() {
            match r {
                Ok(v) => slots[i] = Some(v),
                Err(e) => {
                    if first_err.as_ref().is_none_or(|(j, _)| i < *j) {
                        first_err = Some((i, e));
                    }
                }
            }
        }
        if let Some((_, e)) = first_err {
            return Err(e);
        }
        slots
            .into_iter()
            .map(|v| v.ok_or_else(|| Error::model("a forward pass gave no output")))
            .collect()
    }
}

static WORKERS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many forward passes run at once on CPU (`--model-threads`); 0: one per core.
pub fn set_workers(n: usize) {
    WORKERS.store(n, Ordering::Relaxed);
}

/// How many forward passes run at once: `--model-threads` (see [`set_workers`]), else one per
/// core, on CPU; one on a GPU.
pub(crate) fn workers(device: tch::Device) -> usize {
    match device {
        tch::Device::Cpu if single_threaded_forwards() => match WORKERS.load(Ordering::Relaxed) {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        },
        _ => 1,
    }
}

/// The runtime tag of forward passes run by the replicas: one intra-op thread each on CPU.
pub fn runtime_tag(device: tch::Device) -> String {
    match device {
        tch::Device::Cpu if single_threaded_forwards() => {
            format!("torch-{}/cpu/threads=1", crate::runtime::TORCH_VERSION)
        }
        d => crate::runtime::runtime_tag(d),
    }
}
