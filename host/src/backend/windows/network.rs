//! The VM's NIC on Windows: an endpoint on Hyper-V's NAT network ("Default Switch"), made
//! through the Host Compute Network API. QEMU's `-netdev user` plays this part on Linux.

use std::ffi::c_void;

use windows::core::{GUID, HSTRING, PWSTR};
use windows::Win32::System::HostComputeNetwork::*;

use super::hcs::take_document;
use crate::backend::{BackendError, Result};

/// The NAT network every Hyper-V host has (created by the Hyper-V feature itself).
const NAT_NETWORK: &str = "Default Switch";

/// An HCN endpoint; deleted again when dropped.
#[derive(Debug)]
pub(super) struct Endpoint {
    pub id: GUID,
    pub mac: String,
    handle: *mut c_void,
}

// SAFETY: HCN handles are usable from any thread; the endpoint is only closed in Drop.
unsafe impl Send for Endpoint {}
// SAFETY: shared access only reads `id` and `mac`; the handle is not used through `&self`.
unsafe impl Sync for Endpoint {}

fn hcn_failed(what: &str, error: windows::core::Error, record: PWSTR) -> BackendError {
    // SAFETY: `record` is null or the error record HCN allocated for this call.
    let record = unsafe { take_document(record) };
    BackendError::Failed(
        format!("{what} failed: {error} {record}")
            .trim_end()
            .to_string(),
    )
}

impl Endpoint {
    pub(super) fn create() -> Result<Self> {
        let network_id = find_nat_network()?;
        let mut network: *mut c_void = std::ptr::null_mut();
        let mut record = PWSTR::null();
        // SAFETY: valid out-pointers to locals; HCN writes the handle or an error record.
        unsafe { HcnOpenNetwork(&network_id, &mut network, Some(&mut record)) }
            .map_err(|e| hcn_failed("Opening the Hyper-V NAT network", e, record))?;

        let id = GUID::new()
            .map_err(|e| BackendError::Failed(format!("Making an endpoint id failed: {e}")))?;
        let settings = serde_json::json!({
            "SchemaVersion": { "Major": 2, "Minor": 0 },
            "HostComputeNetwork": format!("{network_id:?}"),
        })
        .to_string();
        let mut handle: *mut c_void = std::ptr::null_mut();
        let mut record = PWSTR::null();
        // SAFETY: `network` is the handle opened above; the id, the settings string and the
        // out-pointers are live locals for the call's duration.
        let created = unsafe {
            HcnCreateEndpoint(
                network,
                &id,
                &HSTRING::from(settings),
                &mut handle,
                Some(&mut record),
            )
        };
        // SAFETY: the network handle opened above, closed once; the endpoint keeps its own
        // reference to the network.
        let _ = unsafe { HcnCloseNetwork(network) };
        created.map_err(|e| hcn_failed("Creating the VM's network endpoint", e, record))?;
        let mut endpoint = Endpoint {
            id,
            mac: String::new(),
            handle,
        };

        let mut properties = PWSTR::null();
        let mut record = PWSTR::null();
        // SAFETY: a live endpoint handle; an empty query; out-pointers to locals.
        unsafe {
            HcnQueryEndpointProperties(handle, &HSTRING::new(), &mut properties, Some(&mut record))
        }
        .map_err(|e| hcn_failed("Reading the VM's network endpoint", e, record))?;
        // SAFETY: the properties string HCN just allocated for us.
        let properties = unsafe { take_document(properties) };
        let properties: serde_json::Value = serde_json::from_str(&properties).map_err(|e| {
            BackendError::Failed(format!("HCN returned unreadable endpoint properties: {e}"))
        })?;
        endpoint.mac = properties["MacAddress"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        Ok(endpoint)
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        // SAFETY: the handle from HcnCreateEndpoint, closed once; then the endpoint is deleted
        // by id so no stale NAT endpoint accumulates across VM restarts.
        unsafe {
            let _ = HcnCloseEndpoint(self.handle);
            let _ = HcnDeleteEndpoint(&self.id, None);
        }
    }
}

fn find_nat_network() -> Result<GUID> {
    let filter = serde_json::json!({ "Name": NAT_NETWORK }).to_string();
    let query = serde_json::json!({
        "SchemaVersion": { "Major": 2, "Minor": 0 },
        "Flags": 0,
        "Filter": filter,
    })
    .to_string();
    let mut networks = PWSTR::null();
    let mut record = PWSTR::null();
    // SAFETY: a valid query string and out-pointers to locals.
    unsafe { HcnEnumerateNetworks(&HSTRING::from(query), &mut networks, Some(&mut record)) }
        .map_err(|e| hcn_failed("Listing Hyper-V networks", e, record))?;
    // SAFETY: the string HCN just allocated for us.
    let networks = unsafe { take_document(networks) };
    let ids: Vec<String> = serde_json::from_str(&networks).unwrap_or_default();
    let missing = || BackendError::Missing {
        what: format!("The Hyper-V network \"{NAT_NETWORK}\""),
        hint: "enable the Hyper-V feature (it creates the Default Switch NAT network)".into(),
    };
    let first = ids.first().ok_or_else(missing)?;
    GUID::try_from(first.trim_matches(|c| c == '{' || c == '}')).map_err(|_| missing())
}
