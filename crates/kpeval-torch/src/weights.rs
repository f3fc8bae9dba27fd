//! Reading weights in place: safetensors files are memory-mapped and their tensors are views of
//! the mapping, copied once into a model's variables (no intermediate copies of the weights).
use kpeval::error::{Error, Result};
use std::collections::HashMap;
use std::path::Path;
use tch::{nn, Device, Kind, Tensor};

/// A read-only memory map of a whole file (unmapped on drop).
pub struct MappedFile {
    ptr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is read-only and lives until drop; sharing it across threads is sound.
unsafe impl Send for MappedFile {}
unsafe impl Sync for MappedFile {}

impl MappedFile {
    fn open(path: &Path) -> Result<MappedFile> {
        use std::os::unix::io::AsRawFd;
        let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let len = f.metadata().map_err(|e| Error::io(path, e))?.len() as usize;
        if len == 0 {
            return Err(Error::model(format!("{}: empty weights file", path.display())));
        }
        // SAFETY: a private read-only mapping of a file we opened; checked for failure below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                f.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::io(path, std::io::Error::last_os_error()));
        }
        Ok(MappedFile { ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes for the lifetime of `self`.
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping made in `open`, once.
        unsafe {
            libc::munmap(self.ptr, self.len);
        }
    }
}

/// The tch kind of a safetensors dtype; `None` for dtypes that tch has no kind for here.
pub fn st_kind(d: safetensors::Dtype) -> Option<Kind> {
    use safetensors::Dtype as D;
    Some(match d {
        D::F32 => Kind::Float,
        D::F16 => Kind::Half,
        D::BF16 => Kind::BFloat16,
        D::F64 => Kind::Double,
        D::I64 => Kind::Int64,
        D::I32 => Kind::Int,
        D::I16 => Kind::Int16,
        D::I8 => Kind::Int8,
        D::U8 => Kind::Uint8,
        D::BOOL => Kind::Bool,
        _ => return None,
    })
}

/// Maps one safetensors file: the mapping and its tensors as views of it (the tensors must not
/// outlive the mapping).
pub fn map_safetensors_file(f: &Path) -> Result<(MappedFile, Vec<(String, Tensor)>)> {
    let file = MappedFile::open(f)?;
    let mut out = Vec::new();
    {
        let st = safetensors::SafeTensors::deserialize(file.bytes())
            .map_err(|e| Error::model(format!("{}: not a safetensors file: {e:?}", f.display())))?;
        for (k, view) in st.tensors() {
            let kind = st_kind(view.dtype()).ok_or_else(|| {
                Error::model(format!(
                    "{}: tensor {k} has unsupported dtype {:?}",
                    f.display(),
                    view.dtype()
                ))
            })?;
            let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            let mut strides = vec![1i64; shape.len()];
            for i in (0..shape.len().saturating_sub(1)).rev() {
                strides[i] = strides[i + 1] * shape[i + 1];
            }
            // SAFETY: the view's bytes lie inside the mapping, which the caller keeps alive
            // longer than the tensor; libtorch only reads them.
            let t = unsafe {
                Tensor::f_from_blob(view.data().as_ptr(), &shape, &strides, kind, Device::Cpu)
            }
            .map_err(|e| Error::model(format!("{}: tensor {k}: {e}", f.display())))?;
            out.push((k, t));
        }
    }
    Ok((file, out))
}

/// Maps one PyTorch checkpoint (`pytorch_model.bin`, `torch.save` zip format; see
/// [`crate::torch_pickle`]): the mapping and its tensors as views of it (the tensors must not
/// outlive the mapping).
pub fn map_torch_file(f: &Path) -> Result<(MappedFile, Vec<(String, Tensor)>)> {
    let shown = f.display().to_string();
    let archive = crate::torch_pickle::read_archive(f)?;
    let refs = crate::torch_pickle::state_dict(&archive.pickle)
        .map_err(|e| Error::model(format!("{shown}: not a state dict kpeval can read: {e}")))?;
    let file = MappedFile::open(f)?;
    let bytes = file.bytes();
    let mut out = Vec::with_capacity(refs.len());
    for (name, r) in refs {
        let &(start, size) = archive.storages.get(&r.storage).ok_or_else(|| {
            Error::model(format!(
                "{shown}: tensor {name}: storage {} is missing from the archive",
                r.storage
            ))
        })?;
        let es = crate::torch_pickle::elem_size(r.kind);
        let need = (r.numel as u64).saturating_mul(es as u64);
        if need > size || start.saturating_add(size) > bytes.len() as u64 {
            return Err(Error::model(format!("{shown}: tensor {name}: storage {} holds {size} bytes, {need} needed (truncated file?)", r.storage)));
        }
        let ptr = bytes[start as usize..].as_ptr().wrapping_add(r.offset * es);
        // SAFETY: the view (offset, size, stride) was checked against the storage's element
        // count, and the storage's bytes lie inside the mapping, which the caller keeps alive
        // longer than the tensor; libtorch only reads them.
        let t = unsafe { Tensor::f_from_blob(ptr, &r.size, &r.stride, r.kind, Device::Cpu) }
            .map_err(|e| Error::model(format!("{shown}: tensor {name}: {e}")))?;
        out.push((name, t));
    }
    Ok((file, out))
}

/// Maps a weights file by its format: safetensors, else a PyTorch checkpoint (`.bin`, `.pt`).
pub fn map_weights_file(f: &Path) -> Result<(MappedFile, Vec<(String, Tensor)>)> {
    let name = f.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    if name.ends_with(".safetensors") {
        map_safetensors_file(f)
    } else {
        map_torch_file(f)
    }
}

/// How a rust-bert variable's value is scaled at load (see
/// [`bert_eps_scale`](crate::bert_family::bert_eps_scale)).
pub(crate) type ScaleFn<'a> = &'a dyn Fn(&str) -> f64;

/// Reads safetensors weights (or rust-bert's .ot) into a variable store built by rust-bert.
/// Each store variable is looked up under its own name, then under the aliases transformers
/// checkpoints use (`{prefix}.` added or removed, LayerNorm `gamma`/`beta`, BART's tied
/// `model.shared` embeddings); shapes must agree. `scale` multiplies values by name.
pub(crate) fn load_weights(
    vs: &nn::VarStore,
    path: &Path,
    prefixes: &[&str],
    scale: Option<ScaleFn>,
) -> Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    // Declared first so that it outlives every view of it below.
    let mut _mapping = None;
    let named: Vec<(String, Tensor)> = if ext == "safetensors" || ext == "bin" {
        let (m, tensors) = crate::weights::map_weights_file(path)?;
        _mapping = Some(m);
        tensors
    } else {
        Tensor::load_multi(path).map_err(|e| Error::model(format!("{}: {e}", path.display())))?
    };
    let mut file: HashMap<String, Tensor> = HashMap::with_capacity(named.len());
    for (k, t) in named {
        let k = if let Some(s) = k.strip_suffix(".gamma") {
            format!("{s}.weight")
        } else if let Some(s) = k.strip_suffix(".beta") {
            format!("{s}.bias")
        } else {
            k
        };
        file.insert(k, t);
    }
    let lookup = |name: &str| -> Option<&Tensor> {
        if let Some(t) = file.get(name) {
            return Some(t);
        }
        for p in prefixes {
            if let Some(rest) = name.strip_prefix(&format!("{p}.")) {
                if let Some(t) = file.get(rest) {
                    return Some(t);
                }
            }
            if let Some(t) = file.get(&format!("{p}.{name}")) {
                return Some(t);
            }
        }
        for (a, b) in [
            ("model.encoder.embed_tokens.weight", "model.shared.weight"),
            ("model.decoder.embed_tokens.weight", "model.shared.weight"),
            ("model.shared.weight", "model.encoder.embed_tokens.weight"),
        ] {
            if name == a {
                if let Some(t) = file.get(b) {
                    return Some(t);
                }
            }
        }
        None
    };
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let mut missing = Vec::new();
    let _guard = tch::no_grad_guard();
    for (name, mut var) in vars {
        let Some(src) = lookup(&name) else {
            missing.push(name);
            continue;
        };
        if src.size() != var.size() {
            return Err(Error::model(format!(
                "{}: {name} has shape {:?}, the model config expects {:?}",
                path.display(),
                src.size(),
                var.size()
            )));
        }
        let mut src = src.to_kind(var.kind()).to_device(var.device());
        if let Some(f) = scale {
            let c = f(&name);
            if c != 1.0 {
                src = src * c;
            }
        }
        var.f_copy_(&src).map_err(|e| Error::model(format!("{name}: {e}")))?;
    }
    if !missing.is_empty() {
        let mut unused: Vec<&String> = file.keys().collect();
        unused.sort();
        let show = |v: Vec<String>| {
            if v.len() > 8 {
                format!("{} … ({} in all)", v[..8].join(", "), v.len())
            } else {
                v.join(", ")
            }
        };
        return Err(Error::model(format!(
            "{}: weights not found for {} (file has e.g. {})",
            path.display(),
            show(missing),
            show(unused.into_iter().take(8).cloned().collect())
        )));
    }
    Ok(())
}
