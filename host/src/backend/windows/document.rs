//! The HCS compute system document for Berth's VM (schema 2.1), what QEMU's command line is on
//! Linux:
//!
//! | QEMU | HCS |
//! |---|---|
//! | `-kernel -initrd -append` | `Chipset.LinuxKernelDirect` |
//! | `-smp -m` | `ComputeTopology.Processor.Count`, `ComputeTopology.Memory.SizeInMB` |
//! | `-drive` (raw) | `Devices.Scsi` with a `VirtualDisk` (VHDX) attachment |
//! | `-netdev user` + `virtio-net` | `Devices.NetworkAdapters` on an HCN NAT endpoint (netvsc) |
//! | `vhost-vsock` | `Devices.HvSocket` (the guest sees AF_VSOCK through `hv_sock`) |
//! | `-serial file:` | `Devices.ComPorts` to a named pipe we copy into the console log |

use std::path::Path;

use serde_json::{json, Value};

use crate::backend::VmConfig;

/// What the backend puts before the caller's command line: COM1 is the 8250 `ttyS0`.
const BASE_CMDLINE: &str = "console=ttyS0,115200 8250_core.nr_uarts=1 quiet";

pub(super) struct Parts<'a> {
    pub config: &'a VmConfig,
    pub disk: &'a Path,
    pub console_pipe: &'a str,
    pub endpoint_id: &'a str,
    pub mac: &'a str,
}

pub(super) fn build(parts: &Parts<'_>) -> Value {
    let config = parts.config;
    let mut adapter = json!({ "EndpointId": parts.endpoint_id });
    if !parts.mac.is_empty() {
        adapter["MacAddress"] = json!(parts.mac);
    }
    json!({
        "Owner": "berth",
        "SchemaVersion": { "Major": 2, "Minor": 1 },
        // Closing our handle (the app exits) ends the VM rather than leaving it orphaned.
        "ShouldTerminateOnLastHandleClosed": true,
        "VirtualMachine": {
            "StopOnReset": true,
            "Chipset": {
                "LinuxKernelDirect": {
                    "KernelFilePath": config.kernel.display().to_string(),
                    "InitRdPath": config.initrd.display().to_string(),
                    "KernelCmdLine": format!("{BASE_CMDLINE} {}", config.cmdline),
                }
            },
            "ComputeTopology": {
                "Memory": { "SizeInMB": config.memory_mib, "AllowOvercommit": true },
                "Processor": { "Count": config.cpus },
            },
            "Devices": {
                "Scsi": {
                    "0": { "Attachments": { "0": {
                        "Type": "VirtualDisk",
                        "Path": parts.disk.display().to_string(),
                    } } }
                },
                "HvSocket": {
                    "HvSocketConfig": {
                        // SYSTEM and Administrators may bind/connect service ids of this VM.
                        "DefaultBindSecurityDescriptor": "D:P(A;;FA;;;SY)(A;;FA;;;BA)",
                    }
                },
                "NetworkAdapters": { parts.endpoint_id: adapter },
                "ComPorts": { "0": { "NamedPipe": parts.console_pipe } },
            }
        }
    })
}
