//! PyTorch checkpoints (`pytorch_model.bin`, what transformers' `save_pretrained` writes with
//! `safe_serialization=False` and what it wrote by default before 4.35), read in Rust.
//!
//! Since PyTorch 1.6, `torch.save` writes a zip archive: `<archive>/data.pkl` (a pickle of the
//! state dict whose tensors refer to storages by a persistent id) and each storage's raw bytes in
//! `<archive>/data/<key>`, stored uncompressed. The pickle is interpreted here by a small stack
//! machine that knows only what a state dict needs (dicts, tuples, numbers, strings,
//! `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter` and the
//! storage types). Nothing in the file is executed: any other callable is refused with its name.
//! Tensors are views of the memory-mapped file, like safetensors ones.
use kpeval::error::{Error, Result};
use std::collections::HashMap;
use tch::Kind;

/// A tensor of the checkpoint: where its elements are.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorRef {
    /// The storage's key: its bytes are the archive entry `data/<storage>`.
    pub storage: String,
    /// The element type (from the storage type, e.g. `torch.FloatStorage`).
    pub kind: Kind,
    /// Elements of the storage.
    pub numel: usize,
    /// First element of the tensor in the storage, in elements.
    pub offset: usize,
    /// Shape.
    pub size: Vec<i64>,
    /// Strides, in elements.
    pub stride: Vec<i64>,
}

#[derive(Debug, Clone)]
enum V {
    Mark,
    None,
    Bool,
    Int(i64),
    Float,
    Str(String),
    Tuple(Vec<V>),
    List(Vec<V>),
    Dict(Vec<(V, V)>),
    Global(String),
    Storage { key: String, kind: Kind, numel: usize },
    Tensor(TensorRef),
}

fn storage_kind(name: &str) -> Option<Kind> {
    Some(match name {
        "torch.FloatStorage" => Kind::Float,
        "torch.HalfStorage" => Kind::Half,
        "torch.BFloat16Storage" => Kind::BFloat16,
        "torch.DoubleStorage" => Kind::Double,
        "torch.LongStorage" => Kind::Int64,
        "torch.IntStorage" => Kind::Int,
        "torch.ShortStorage" => Kind::Int16,
        "torch.CharStorage" => Kind::Int8,
        "torch.ByteStorage" => Kind::Uint8,
        "torch.BoolStorage" => Kind::Bool,
        _ => return None,
    })
}

/// Bytes per element of the storage kinds a checkpoint can hold (1 for bytes and bools).
pub fn elem_size(kind: Kind) -> usize {
    match kind {
        Kind::Double | Kind::Int64 => 8,
        Kind::Float | Kind::Int => 4,
        Kind::Half | Kind::BFloat16 | Kind::Int16 => 2,
        _ => 1,
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or("the pickle ends early")?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> std::result::Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> std::result::Result<u16, String> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> std::result::Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn line(&mut self) -> std::result::Result<String, String> {
        let rest = &self.b[self.pos..];
        let n = rest.iter().position(|&c| c == b'\n').ok_or("the pickle ends early")?;
        let s = String::from_utf8_lossy(&rest[..n]).to_string();
        self.pos += n + 1;
        Ok(s)
    }
    fn utf8(&mut self, n: usize) -> std::result::Result<String, String> {
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| "a string that is not UTF-8".to_string())
    }
}

fn ints(v: &V, what: &str) -> std::result::Result<Vec<i64>, String> {
    match v {
        V::Tuple(xs) | V::List(xs) => xs
            .iter()
            .map(
                |x| if let V::Int(i) = x { Ok(*i) } else { Err(format!("{what}: not an integer")) },
            )
            .collect(),
        _ => Err(format!("{what}: not a tuple")),
    }
}

/// Applies a callable the state-dict pickle uses to its arguments.
fn call(f: &str, args: Vec<V>) -> std::result::Result<V, String> {
    match f {
        "collections.OrderedDict" => Ok(V::Dict(Vec::new())),
        "torch._utils._rebuild_tensor_v2" | "torch._utils._rebuild_tensor" => {
            let (storage, offset, size, stride) = match args.as_slice() {
                [s, o, size, stride, ..] => (s, o, size, stride),
                _ => return Err(format!("{f}: {} arguments", args.len())),
            };
            let V::Storage { key, kind, numel } = storage else {
                return Err(format!("{f}: the first argument is not a storage"));
            };
            let V::Int(offset) = offset else {
                return Err(format!("{f}: the offset is not an integer"));
            };
            let size = ints(size, "tensor size")?;
            let stride = ints(stride, "tensor stride")?;
            if size.len() != stride.len()
                || *offset < 0
                || size.iter().chain(&stride).any(|&x| x < 0)
            {
                return Err(format!("{f}: size {size:?} / stride {stride:?} / offset {offset}"));
            }
            // The last element a view reaches must lie inside its storage.
            if size.iter().all(|&d| d > 0) {
                let last: i64 =
                    offset + size.iter().zip(&stride).map(|(d, s)| (d - 1) * s).sum::<i64>();
                if last as usize >= *numel {
                    return Err(format!("a tensor of size {size:?} reaches element {last} of storage {key}, which has {numel}"));
                }
            }
            Ok(V::Tensor(TensorRef {
                storage: key.clone(),
                kind: *kind,
                numel: *numel,
                offset: *offset as usize,
                size,
                stride,
            }))
        }
        "torch._utils._rebuild_parameter" | "torch._utils._rebuild_parameter_with_state" => {
            match args.into_iter().next() {
                Some(t @ V::Tensor(_)) => Ok(t),
                _ => Err(format!("{f}: no tensor")),
            }
        }
        _ => Err(format!("the pickle calls {f}, which a state dict does not need (not executed)")),
    }
}

/// The tensors of a state-dict pickle, by name (nested dicts are flattened with dots).
pub fn state_dict(pickle: &[u8]) -> std::result::Result<Vec<(String, TensorRef)>, String> {
    let mut r = Reader { b: pickle, pos: 0 };
    let mut stack: Vec<V> = Vec::new();
    let mut memo: HashMap<u32, V> = HashMap::new();
    let pop =
        |stack: &mut Vec<V>| stack.pop().ok_or_else(|| "the pickle's stack is empty".to_string());
    let pop_mark = |stack: &mut Vec<V>| -> std::result::Result<Vec<V>, String> {
        let k = stack.iter().rposition(|v| matches!(v, V::Mark)).ok_or("no MARK")?;
        let items = stack.split_off(k + 1);
        stack.pop();
        Ok(items)
    };
    loop {
        let op = r.u8()?;
        match op {
            0x80 => {
                r.u8()?; // PROTO
            }
            0x95 => {
                r.take(8)?; // FRAME
            }
            b'.' => break, // STOP
            b'(' => stack.push(V::Mark),
            b'N' => stack.push(V::None),
            0x88 | 0x89 => stack.push(V::Bool),
            b'J' => stack.push(V::Int(r.u32()? as i32 as i64)),
            b'K' => stack.push(V::Int(r.u8()? as i64)),
            b'M' => stack.push(V::Int(r.u16()? as i64)),
            0x8a => {
                // LONG1: little-endian two's complement of n bytes
                let n = r.u8()? as usize;
                let bytes = r.take(n)?;
                if n > 8 {
                    return Err("an integer over 64 bits".into());
                }
                let mut v: i64 = 0;
                for (i, &b) in bytes.iter().enumerate() {
                    v |= (b as i64) << (8 * i);
                }
                if n > 0 && n < 8 && bytes[n - 1] & 0x80 != 0 {
                    v -= 1i64 << (8 * n);
                }
                stack.push(V::Int(v));
            }
            b'G' => {
                r.take(8)?;
                stack.push(V::Float);
            }
            b'X' => {
                let n = r.u32()? as usize;
                stack.push(V::Str(r.utf8(n)?));
            }
            0x8c => {
                let n = r.u8()? as usize;
                stack.push(V::Str(r.utf8(n)?));
            }
            b'T' => {
                let n = r.u32()? as usize;
                stack.push(V::Str(String::from_utf8_lossy(r.take(n)?).to_string()));
            }
            b'U' => {
                let n = r.u8()? as usize;
                stack.push(V::Str(String::from_utf8_lossy(r.take(n)?).to_string()));
            }
            b')' => stack.push(V::Tuple(Vec::new())),
            b']' => stack.push(V::List(Vec::new())),
            b'}' => stack.push(V::Dict(Vec::new())),
            b't' => {
                let items = pop_mark(&mut stack)?;
                stack.push(V::Tuple(items));
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if stack.len() < n {
                    return Err("the pickle's stack is empty".into());
                }
                let items = stack.split_off(stack.len() - n);
                stack.push(V::Tuple(items));
            }
            b'l' => {
                let items = pop_mark(&mut stack)?;
                stack.push(V::List(items));
            }
            b'a' => {
                let x = pop(&mut stack)?;
                match stack.last_mut() {
                    Some(V::List(l)) => l.push(x),
                    _ => return Err("APPEND to a non-list".into()),
                }
            }
            b'e' => {
                let items = pop_mark(&mut stack)?;
                match stack.last_mut() {
                    Some(V::List(l)) => l.extend(items),
                    _ => return Err("APPENDS to a non-list".into()),
                }
            }
            b'd' => {
                let items = pop_mark(&mut stack)?;
                let mut d = Vec::new();
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    d.push((k, v));
                }
                stack.push(V::Dict(d));
            }
            b's' => {
                let v = pop(&mut stack)?;
                let k = pop(&mut stack)?;
                match stack.last_mut() {
                    Some(V::Dict(d)) => d.push((k, v)),
                    _ => return Err("SETITEM on a non-dict".into()),
                }
            }
            b'u' => {
                let items = pop_mark(&mut stack)?;
                let Some(V::Dict(d)) = stack.last_mut() else {
                    return Err("SETITEMS on a non-dict".into());
                };
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    d.push((k, v));
                }
            }
            b'c' => {
                let module = r.line()?;
                let name = r.line()?;
                stack.push(V::Global(format!("{module}.{name}")));
            }
            0x93 => {
                // STACK_GLOBAL
                let name = pop(&mut stack)?;
                let module = pop(&mut stack)?;
                match (module, name) {
                    (V::Str(m), V::Str(n)) => stack.push(V::Global(format!("{m}.{n}"))),
                    _ => return Err("STACK_GLOBAL without strings".into()),
                }
            }
            b'Q' => {
                // BINPERSID: ('storage', storage type, key, location, numel)
                let pid = pop(&mut stack)?;
                let V::Tuple(t) = pid else {
                    return Err("a persistent id that is not a tuple".into());
                };
                match t.as_slice() {
                    [V::Str(tag), V::Global(ty), key, _location, V::Int(numel)]
                        if tag == "storage" =>
                    {
                        let kind = storage_kind(ty)
                            .ok_or_else(|| format!("storage type {ty} is not supported"))?;
                        let key = match key {
                            V::Str(s) => s.clone(),
                            V::Int(i) => i.to_string(),
                            _ => return Err("a storage key that is not a string".into()),
                        };
                        stack.push(V::Storage { key, kind, numel: (*numel).max(0) as usize });
                    }
                    _ => return Err("a persistent id that is not a storage".into()),
                }
            }
            b'R' => {
                let args = pop(&mut stack)?;
                let f = pop(&mut stack)?;
                let V::Global(f) = f else {
                    return Err("REDUCE of something that is not a global".into());
                };
                let V::Tuple(args) = args else {
                    return Err(format!("{f}: arguments that are not a tuple"));
                };
                stack.push(call(&f, args)?);
            }
            b'b' => {
                // BUILD: state set on the object below (a state dict's `_metadata`): ignored
                pop(&mut stack)?;
            }
            b'q' => {
                let k = r.u8()? as u32;
                memo.insert(k, stack.last().cloned().ok_or("BINPUT on an empty stack")?);
            }
            b'r' => {
                let k = r.u32()?;
                memo.insert(k, stack.last().cloned().ok_or("LONG_BINPUT on an empty stack")?);
            }
            0x94 => {
                // MEMOIZE
                let k = memo.len() as u32;
                memo.insert(k, stack.last().cloned().ok_or("MEMOIZE on an empty stack")?);
            }
            b'h' => {
                let k = r.u8()? as u32;
                stack.push(memo.get(&k).cloned().ok_or_else(|| format!("memo {k} missing"))?);
            }
            b'j' => {
                let k = r.u32()?;
                stack.push(memo.get(&k).cloned().ok_or_else(|| format!("memo {k} missing"))?);
            }
            b'0' => {
                pop(&mut stack)?;
            }
            other => {
                return Err(format!(
                    "pickle opcode 0x{other:02x} at byte {} is not supported",
                    r.pos - 1
                ))
            }
        }
    }
    let top = stack.pop().ok_or("an empty pickle")?;
    let mut out = Vec::new();
    flatten("", top, &mut out)?;
    if out.is_empty() {
        return Err("the pickle holds no tensors".into());
    }
    Ok(out)
}

fn flatten(
    prefix: &str,
    v: V,
    out: &mut Vec<(String, TensorRef)>,
) -> std::result::Result<(), String> {
    match v {
        V::Dict(items) => {
            for (k, v) in items {
                let V::Str(k) = k else { continue };
                let name = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
                flatten(&name, v, out)?;
            }
            Ok(())
        }
        V::Tensor(t) => {
            out.push((prefix.to_string(), t));
            Ok(())
        }
        // Non-tensor entries (a step counter, None): not weights.
        _ => Ok(()),
    }
}

/// The zip entries of a `torch.save` archive: the pickle's bytes and each storage's byte range
/// in the file.
pub struct Archive {
    /// The bytes of `data.pkl`.
    pub pickle: Vec<u8>,
    /// Storage key → (offset of its bytes in the file, their length), both in bytes.
    pub storages: HashMap<String, (u64, u64)>,
}

/// Reads the zip directory of a `torch.save` file (`pytorch_model.bin`). Errors on a file that
/// is not a zip checkpoint (legacy format included), has no `data.pkl`, is big-endian, or has a
/// compressed storage.
pub fn read_archive(path: &std::path::Path) -> Result<Archive> {
    let shown = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = [0u8; 4];
    {
        use std::io::Read;
        let mut g = &f;
        if g.read_exact(&mut head).is_err() {
            return Err(Error::model(format!("{shown}: empty or truncated weights file")));
        }
    }
    if head != *b"PK\x03\x04" {
        return Err(Error::model(format!(
            "{shown}: not a zip-format PyTorch checkpoint (the legacy format of torch < 1.6 is not read): save the model again with a recent transformers (`save_pretrained`, safetensors by default)"
        )));
    }
    let mut zip = zip::ZipArchive::new(f).map_err(|e| {
        Error::model(format!("{shown}: not a readable PyTorch checkpoint (zip): {e}"))
    })?;
    let mut pickle_name = None;
    let mut entries = Vec::new();
    for i in 0..zip.len() {
        let e = zip
            .by_index_raw(i)
            .map_err(|e| Error::model(format!("{shown}: zip entry {i}: {e}")))?;
        let name = e.name().to_string();
        if name.ends_with("/data.pkl") || name == "data.pkl" {
            pickle_name = Some(name.clone());
        }
        entries.push((name, e.compression(), e.data_start(), e.size()));
    }
    let pickle_name = pickle_name.ok_or_else(|| {
        Error::model(format!("{shown}: no data.pkl in the archive (not a torch.save file)"))
    })?;
    let prefix = pickle_name.strip_suffix("data.pkl").unwrap_or("").to_string();
    let pickle = {
        use std::io::Read;
        let mut e = zip
            .by_name(&pickle_name)
            .map_err(|e| Error::model(format!("{shown}: {pickle_name}: {e}")))?;
        let mut v = Vec::new();
        e.read_to_end(&mut v).map_err(|e| Error::io(path, e))?;
        v
    };
    if let Ok(mut e) = zip.by_name(&format!("{prefix}byteorder")) {
        use std::io::Read;
        let mut order = String::new();
        let _ = e.read_to_string(&mut order);
        if order.trim() != "little" {
            return Err(Error::model(format!(
                "{shown}: a {} byte-order checkpoint (only little-endian ones are read)",
                order.trim()
            )));
        }
    }
    let mut storages = HashMap::new();
    for (name, method, start, size) in entries {
        if let Some(key) = name.strip_prefix(&format!("{prefix}data/")) {
            if method != zip::CompressionMethod::Stored {
                return Err(Error::model(format!("{shown}: storage {name} is compressed ({method}); torch.save stores them uncompressed")));
            }
            storages.insert(key.to_string(), (start, size));
        }
    }
    Ok(Archive { pickle, storages })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state dict pickle as torch.save (protocol 2) writes it: OrderedDict, two tensors that
    /// share a storage (tied weights), memo references, a non-tensor entry.
    #[test]
    fn reads_a_state_dict_pickle() {
        let mut p: Vec<u8> = vec![0x80, 2];
        p.extend(b"ccollections\nOrderedDict\nq\x00)Rq\x01(");
        let key = |p: &mut Vec<u8>, s: &str| {
            p.push(b'X');
            p.extend((s.len() as u32).to_le_bytes());
            p.extend(s.as_bytes());
        };
        key(&mut p, "a.weight");
        p.extend(b"ctorch._utils\n_rebuild_tensor_v2\nq\x02((");
        key(&mut p, "storage");
        p.extend(b"ctorch\nFloatStorage\nq\x03");
        key(&mut p, "0");
        key(&mut p, "cpu");
        p.extend(b"K\x06tq\x04QK\x00K\x02K\x03\x86K\x03K\x01\x86\x89h\x00)Rtq\x05R");
        key(&mut p, "b.weight");
        p.extend(b"h\x02(h\x04QK\x03K\x03\x85K\x01\x85\x89h\x00)RtR");
        key(&mut p, "step");
        p.extend(b"K\x07u.");
        let sd = state_dict(&p).unwrap();
        assert_eq!(sd.len(), 2);
        assert_eq!(sd[0].0, "a.weight");
        assert_eq!(
            sd[0].1,
            TensorRef {
                storage: "0".into(),
                kind: Kind::Float,
                numel: 6,
                offset: 0,
                size: vec![2, 3],
                stride: vec![3, 1]
            }
        );
        assert_eq!(
            sd[1].1,
            TensorRef {
                storage: "0".into(),
                kind: Kind::Float,
                numel: 6,
                offset: 3,
                size: vec![3],
                stride: vec![1]
            }
        );
        // A view beyond its storage, and a callable a state dict never needs, are refused.
        let mut bad = p.clone();
        let pos = bad.windows(3).position(|w| w == b"K\x03K").unwrap();
        bad[pos + 1] = 4; // offset 4 + 3 elements > 6
        assert!(state_dict(&bad).unwrap_err().contains("storage 0"), "{:?}", state_dict(&bad));
        let evil = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.";
        assert!(state_dict(evil).unwrap_err().contains("os.system"));
    }
}
