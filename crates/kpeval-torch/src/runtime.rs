//! The runtime a model runs on: libtorch version, `--device`, and the tag signatures carry.
use kpeval::error::{Error, Result};
use tch::Device;

/// libtorch version this crate links (tch 0.17 checks it at build time).
pub const TORCH_VERSION: &str = "2.4.0";

/// How a model runs, for signatures: libtorch version, device, and intra-op threads on CPU
/// (other thread counts can change results in the last digits).
pub fn runtime_tag(device: Device) -> String {
    match device {
        Device::Cpu => format!("torch-{TORCH_VERSION}/cpu/threads={}", tch::get_num_threads()),
        Device::Cuda(i) => format!("torch-{TORCH_VERSION}/cuda:{i}"),
        other => format!("torch-{TORCH_VERSION}/{other:?}").to_lowercase(),
    }
}

/// Parses `--device`.
pub fn device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" => {
            if tch::Cuda::is_available() {
                Ok(Device::Cuda(0))
            } else {
                Err(Error::config("--device cuda: no CUDA device is available"))
            }
        }
        d if d.starts_with("cuda:") => {
            let i = d[5..]
                .parse::<usize>()
                .map_err(|_| Error::config(format!("--device {d}: bad index")))?;
            let n = if tch::Cuda::is_available() {
                tch::Cuda::device_count().max(0) as usize
            } else {
                0
            };
            if i >= n {
                return Err(Error::config(format!(
                    "--device {d}: {}",
                    if n == 0 {
                        "no CUDA device is available".to_string()
                    } else {
                        format!("this machine has {n} CUDA device(s) (cuda:0..cuda:{})", n - 1)
                    }
                )));
            }
            Ok(Device::Cuda(i))
        }
        other => Err(Error::config(format!("--device {other}: expected cpu, cuda or cuda:N"))),
    }
}
