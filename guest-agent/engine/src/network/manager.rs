//! [`Networks`]: the engine's network state and every operation on it. One mutex guards
//! it; host changes (bridges, rules, namespaces) happen under it, so two starts never race
//! for an address or a rule set.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

use serde::{Deserialize, Serialize};

use super::dns::{Names, Resolver};
use super::firewall::{self, NetRules, PortRule};
use super::netlink::Netlink;
use super::ports::{self, Reservation};
use super::store::{self, Files, Leases, NetworkRecord, Subnet};
use super::{host, netns, Endpoint, NetworkError, NetworkSetup, PublishedPort, Result};
use crate::container::config::{ContainerConfig, EndpointConfig};
use crate::container::record::{read_json, write_json_atomic, ContainerRecord};
use crate::container::spec::NetworkNamespace;
use crate::events::Event;

/// A container's attachment while it has a namespace: `<container dir>/network-state.json`.
pub const STATE_FILE: &str = "network-state.json";
/// The networks a container joins at its next start, once connect/disconnect changed
/// them: `<container dir>/network-config.json`.
pub const MEMBERSHIP_FILE: &str = "network-config.json";

/// Where network events go (the engine's event bus).
pub trait EventSink: Send + Sync + std::fmt::Debug {
    fn publish(&self, event: Event);
}

/// One running container's attachment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attachment {
    pub container_id: String,
    pub container_name: String,
    pub netns: PathBuf,
    /// Network ID -> endpoint.
    pub endpoints: BTreeMap<String, AttachedEndpoint>,
    /// The network published ports go through (the first one joined).
    pub primary: String,
    pub ports: Vec<PublishedPort>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttachedEndpoint {
    pub network_name: String,
    pub endpoint: Endpoint,
    /// The interface in the container (`eth0`) and its host end (`veth...`).
    pub ifname: String,
    pub host_veth: String,
}

/// The networks a container asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Membership {
    /// `bridge`, `host`, `none`, `container:<id>` or a network name: the first network.
    pub mode: String,
    /// Network name -> endpoint settings, the first network included.
    pub networks: BTreeMap<String, EndpointConfig>,
}

impl Membership {
    pub fn of(config: &ContainerConfig) -> Membership {
        let mode = match config.network_mode.as_str() {
            "" | "default" => "bridge".to_string(),
            other => other.to_string(),
        };
        let mut networks = config.networks.clone();
        if !matches!(mode.as_str(), "host" | "none") && !mode.starts_with("container:") {
            networks.entry(mode.clone()).or_default();
        }
        Membership { mode, networks }
    }

    /// Network names in joining order: the mode's first.
    fn ordered(&self) -> Vec<(&String, &EndpointConfig)> {
        let mut out: Vec<_> = self.networks.iter().collect();
        out.sort_by_key(|(name, _)| **name != self.mode);
        out
    }
}

/// A network with the containers on it, for list and inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkView {
    pub record: NetworkRecord,
    /// Container ID -> (container name, endpoint).
    pub containers: BTreeMap<String, (String, Endpoint)>,
}

/// What a network create asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkCreate {
    pub name: String,
    /// `bridge` (or empty).
    pub driver: String,
    pub internal: bool,
    pub attachable: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
}

#[derive(Debug)]
pub struct Networks {
    files: Files,
    containers_dir: PathBuf,
    netns_dir: PathBuf,
    /// Markers of networks whose rules this boot has installed (on tmpfs in production).
    run_dir: PathBuf,
    /// The engine root, recorded with the bridges it owns (see `host`).
    root: PathBuf,
    state: Mutex<State>,
    sink: OnceLock<Weak<dyn EventSink>>,
}

#[derive(Debug, Default)]
struct State {
    networks: Vec<NetworkRecord>,
    ipam: BTreeMap<String, Leases>,
    attached: BTreeMap<String, Attachment>,
    reservations: HashMap<String, Vec<Reservation>>,
    resolvers: HashMap<String, Resolver>,
    names: HashMap<String, Names>,
    /// Networks whose bridge and rules this process has checked.
    ready: HashSet<String>,
}

fn now() -> String {
    crate::logs::format_rfc3339_nano(std::time::SystemTime::now())
}

fn random_id() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    hex::encode(bytes)
}

fn host_err(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> NetworkError {
    let action = action.into();
    move |source| NetworkError::Host { action, source }
}

/// docker's MAC for an address: 02:42 and the four address bytes.
fn mac_of(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl Networks {
    /// Loads the networks under `root` (creating the defaults), and the attachments of the
    /// containers that still have a namespace. Touches nothing on the host: bridges and
    /// rules are checked when a container first needs them, so opening stays cheap (every
    /// `berth-agent` command opens an engine).
    pub fn open(root: &Path, runtime_root: &Path) -> Arc<Networks> {
        let run_base = runtime_root
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/run/berth"));
        let files = Files::new(root);
        let mut state = State::default();
        match files.load_networks() {
            Ok(networks) => state.networks = networks,
            Err(e) => tracing::warn!("cannot read {}: {e}", files.dir.display()),
        }
        state.ipam = files.load_ipam().unwrap_or_else(|e| {
            tracing::warn!("cannot read the address leases: {e}");
            BTreeMap::new()
        });
        let networks = Networks {
            files,
            containers_dir: root.join("containers"),
            netns_dir: run_base.join("netns"),
            run_dir: run_base.join("net"),
            root: root.to_path_buf(),
            state: Mutex::new(state),
            sink: OnceLock::new(),
        };
        {
            let mut state = networks.lock();
            networks.ensure_defaults(&mut state);
            networks.load_attachments(&mut state);
        }
        host::sweep_stale_roots();
        let networks = Arc::new(networks);
        super::registry::register(&networks.containers_dir, &networks);
        networks
    }

    /// Where network events go from now on.
    pub fn set_sink(&self, sink: Weak<dyn EventSink>) {
        let _ = self.sink.set(sink);
    }

    fn publish(&self, event: Event) {
        if let Some(sink) = self.sink.get().and_then(Weak::upgrade) {
            sink.publish(event);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn netns_path(&self, container_id: &str) -> PathBuf {
        self.netns_dir.join(container_id)
    }

    fn ensure_defaults(&self, state: &mut State) {
        let mut changed = false;
        for (name, driver) in [("bridge", "bridge"), ("host", "host"), ("none", "null")] {
            if state.networks.iter().any(|n| n.name == name) {
                continue;
            }
            let mut record = NetworkRecord {
                id: random_id(),
                name: name.into(),
                driver: driver.into(),
                created: now(),
                predefined: true,
                ..Default::default()
            };
            if driver == "bridge" {
                let subnet = pick_subnet(&state.networks, &[]);
                record.gateway = subnet.first_host().to_string();
                record.subnet = subnet.to_string();
                record.bridge = if self.root == Path::new(crate::image::store::DEFAULT_ROOT) {
                    "berth0".into()
                } else {
                    format!("br-{}", &record.id[..12])
                };
                record.options.insert(
                    "com.docker.network.bridge.name".into(),
                    record.bridge.clone(),
                );
            }
            state.networks.push(record);
            changed = true;
        }
        if changed {
            if let Err(e) = self.files.save_networks(&state.networks) {
                tracing::warn!("cannot save the networks: {e}");
            }
        }
    }

    fn load_attachments(&self, state: &mut State) {
        let Ok(dirs) = std::fs::read_dir(&self.containers_dir) else {
            return;
        };
        for entry in dirs.flatten() {
            if let Ok(a) = read_json::<Attachment>(&entry.path().join(STATE_FILE)) {
                self.index_names(state, &a, true);
                state.attached.insert(a.container_id.clone(), a);
            }
        }
        // Leases of containers without an attachment (an engine killed mid-way) go back.
        let attached: BTreeSet<String> = state.attached.keys().cloned().collect();
        let mut changed = false;
        for leases in state.ipam.values_mut() {
            let before = leases.leased.len();
            leases.leased.retain(|_, owner| attached.contains(owner));
            changed |= before != leases.leased.len();
        }
        if changed {
            let _ = self.files.save_ipam(&state.ipam);
        }
    }

    /// Re-reserves the published ports of running containers (an engine restart lost the
    /// sockets) and restarts the resolvers of their networks. Called once the engine has
    /// reattached its containers.
    pub fn resume(&self) {
        let mut state = self.lock();
        let attachments: Vec<Attachment> = state.attached.values().cloned().collect();
        for a in attachments {
            for net_id in a.endpoints.keys() {
                if let Some(net) = state.networks.iter().find(|n| &n.id == net_id).cloned() {
                    if let Err(e) = self.ensure_bridge(&mut state, &net) {
                        tracing::warn!("network {}: {e}", net.name);
                    }
                }
            }
            let mut held = Vec::new();
            for p in &a.ports {
                let ip = p.host_ip.parse().unwrap_or(Ipv4Addr::LOCALHOST);
                let proto = if p.proto == "udp" {
                    ports::Proto::Udp
                } else {
                    ports::Proto::Tcp
                };
                match ports::reserve(ip, (p.host_port, p.host_port), proto) {
                    Ok((_, r)) => held.push(r),
                    Err(e) => tracing::warn!("{}: {e}", a.container_id),
                }
            }
            state.reservations.insert(a.container_id.clone(), held);
        }
    }

    fn find<'s>(&self, state: &'s State, reference: &str) -> Result<&'s NetworkRecord> {
        find_in(&state.networks, reference)
    }

    // ---- bridges -------------------------------------------------------------------

    /// Makes sure `net`'s bridge, address, rules and resolver exist; cheap once done.
    /// Returns the network as it now is: the default bridge's subnet moves when another
    /// engine's bridge (or any route) took it before this engine's bridge existed.
    fn ensure_bridge(&self, state: &mut State, net: &NetworkRecord) -> Result<NetworkRecord> {
        let exists = Path::new("/sys/class/net").join(&net.bridge).exists();
        if exists && state.ready.contains(&net.id) {
            return Ok(net.clone());
        }
        let _host_lock = host::lock()?;
        let mut owned = net.clone();
        let net = &mut owned;
        let marker = self.run_dir.join(&net.id);
        let mut fresh = false;
        if !Path::new("/sys/class/net").join(&net.bridge).exists() {
            let mut subnet = net.subnet().ok_or_else(|| {
                NetworkError::Invalid(format!("network {} has no subnet", net.name))
            })?;
            let bridge = net.bridge.clone();
            let clashes = |subnet: Subnet| {
                store::host_routes()
                    .into_iter()
                    .find(|(dev, s)| *dev != bridge && s.overlaps(subnet))
            };
            let unused = state.ipam.get(&net.id).is_none_or(|l| l.leased.is_empty());
            if net.predefined && unused && clashes(subnet).is_some() {
                let others: Vec<NetworkRecord> = state
                    .networks
                    .iter()
                    .filter(|n| n.id != net.id)
                    .cloned()
                    .collect();
                subnet = pick_subnet(&others, &[]);
                net.subnet = subnet.to_string();
                net.gateway = subnet.first_host().to_string();
                if let Some(saved) = state.networks.iter_mut().find(|n| n.id == net.id) {
                    *saved = net.clone();
                }
                self.files
                    .save_networks(&state.networks)
                    .map_err(host_err("save the networks"))?;
            }
            if let Some((dev, s)) = clashes(subnet) {
                return Err(NetworkError::Conflict(format!(
                    "network {} ({subnet}) overlaps {s} of interface {dev}",
                    net.name
                )));
            }
            let gateway = net.gateway_ip().unwrap_or(subnet.first_host());
            let mut nl = Netlink::open().map_err(host_err("open a netlink socket"))?;
            nl.add_bridge(&net.bridge)
                .map_err(host_err(format!("create the bridge {}", net.bridge)))?;
            let index = nl
                .link_index(&net.bridge)
                .map_err(host_err(format!("find the bridge {}", net.bridge)))?;
            nl.add_address(index, gateway, subnet.prefix)
                .map_err(host_err(format!("address the bridge {}", net.bridge)))?;
            nl.set_up(index)
                .map_err(host_err(format!("bring up the bridge {}", net.bridge)))?;
            host::register_bridge(&self.root, net);
            fresh = true;
        }
        // 127.0.0.1 -> container through DNAT needs loopback sources routed on the bridge.
        host::sysctl(&format!("net/ipv4/conf/{}/route_localnet", net.bridge), "1")?;
        host::enable_forwarding()?;
        if fresh || !marker.exists() {
            let rules = port_rules(state, &net.id);
            firewall::install(&net_rules(net, &rules)).map_err(host_err(format!(
                "install the rules of network {}",
                net.name
            )))?;
            let _ = std::fs::create_dir_all(&self.run_dir);
            let _ = std::fs::write(&marker, b"");
        }
        if net.has_dns() && !state.resolvers.contains_key(&net.id) {
            let names = state.names.entry(net.id.clone()).or_default().clone();
            if let Some(gw) = net.gateway_ip() {
                match Resolver::start(gw, 53, names) {
                    Ok(r) => {
                        state.resolvers.insert(net.id.clone(), r);
                    }
                    Err(e) => {
                        tracing::warn!("network {}: no DNS resolver on {gw}:53: {e}", net.name)
                    }
                }
            }
        }
        state.ready.insert(net.id.clone());
        Ok(owned)
    }

    // ---- containers ----------------------------------------------------------------

    /// The container's membership: as connect/disconnect left it, else from its config.
    pub fn membership(&self, container_dir: &Path, config: &ContainerConfig) -> Membership {
        read_json(&container_dir.join(MEMBERSHIP_FILE)).unwrap_or_else(|_| Membership::of(config))
    }

    /// Gives a starting container its network namespace: interfaces, addresses, routes,
    /// published ports. `exposed` are the ports `-P` publishes.
    pub fn attach(
        &self,
        record: &ContainerRecord,
        container_dir: &Path,
        exposed: &BTreeSet<String>,
    ) -> Result<NetworkSetup> {
        let membership = self.membership(container_dir, &record.config);
        match membership.mode.as_str() {
            "none" => return Ok(NetworkNamespace::Private.into()),
            "host" => return Ok(NetworkNamespace::Host.into()),
            m if m.starts_with("container:") => {
                return Err(NetworkError::Invalid(format!(
                    "network mode {m} is not supported yet"
                )))
            }
            _ => {}
        }
        let requests = ports::requests(&record.config, exposed)
            .map_err(|e| NetworkError::Invalid(e.to_string()))?;
        let mut state = self.lock();
        let mut nets = Vec::new();
        for (name, cfg) in membership.ordered() {
            let net = self.find(&state, name)?.clone();
            if !net.is_bridge() {
                return Err(NetworkError::Invalid(format!(
                    "container cannot be connected to network {} and to others",
                    net.name
                )));
            }
            nets.push((net, cfg.clone()));
        }
        for (net, _) in nets.iter_mut() {
            *net = self.ensure_bridge(&mut state, net)?;
        }
        let id = &record.id;
        let mut attachment = Attachment {
            container_id: id.clone(),
            container_name: record.name.clone(),
            netns: self.netns_path(id),
            primary: nets.first().map(|(n, _)| n.id.clone()).unwrap_or_default(),
            ..Default::default()
        };
        let result = self.attach_locked(&mut state, &mut attachment, &nets, &requests);
        if let Err(e) = result {
            self.undo(&mut state, &attachment);
            return Err(e);
        }
        let primary = nets.first().map(|(n, _)| n.clone());
        drop(state);
        for (net, _) in &nets {
            self.publish(
                Event::new("network", "connect", &net.id)
                    .with("container", id)
                    .with("name", &net.name)
                    .with("type", &net.driver),
            );
        }
        self.publish_ports(&attachment, "add");
        let addresses = attachment
            .endpoints
            .values()
            .filter_map(|e| e.endpoint.ip.parse().ok())
            .collect();
        let gateway = primary
            .as_ref()
            .and_then(|n| n.gateway_ip())
            .map(IpAddr::V4);
        Ok(NetworkSetup {
            namespace: NetworkNamespace::Join(attachment.netns.clone()),
            addresses,
            host_gateway: gateway,
            nameservers: match &primary {
                Some(n) if n.has_dns() => gateway.into_iter().collect(),
                _ => Vec::new(),
            },
        })
    }

    fn attach_locked(
        &self,
        state: &mut State,
        attachment: &mut Attachment,
        nets: &[(NetworkRecord, EndpointConfig)],
        requests: &[ports::PortRequest],
    ) -> Result<()> {
        let id = attachment.container_id.clone();
        netns::create(&attachment.netns).map_err(host_err("create the network namespace"))?;
        // Registered now so that `undo` removes the namespace whatever fails next.
        state.attached.insert(id.clone(), attachment.clone());
        let mut inner = Netlink::open_in(&attachment.netns)
            .map_err(host_err("open the container's network namespace"))?;
        inner.set_up(1).map_err(host_err("bring up lo"))?;
        for (i, (net, cfg)) in nets.iter().enumerate() {
            let ep = self.add_endpoint(state, &mut inner, attachment, net, cfg, i)?;
            attachment.endpoints.insert(net.id.clone(), ep);
        }
        let container_ip: Ipv4Addr = attachment
            .endpoints
            .get(&attachment.primary)
            .and_then(|e| e.endpoint.ip.parse().ok())
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        let mut held = Vec::new();
        for req in requests {
            let (port, reservation) = ports::reserve(req.host_ip, req.host_ports, req.proto)
                .map_err(NetworkError::PortAllocated)?;
            held.push(reservation);
            attachment.ports.push(PublishedPort {
                container_port: req.container_port,
                proto: req.proto.as_str().into(),
                host_ip: req.host_ip.to_string(),
                host_port: port,
            });
            let _ = container_ip;
        }
        state.reservations.insert(id.clone(), held);
        state.attached.insert(id.clone(), attachment.clone());
        self.files
            .save_ipam(&state.ipam)
            .map_err(host_err("save the address leases"))?;
        if !attachment.ports.is_empty() {
            self.update_rules(state, &attachment.primary)?;
        }
        let path = self.containers_dir.join(&id).join(STATE_FILE);
        write_json_atomic(&path, attachment).map_err(host_err("save the network state"))?;
        self.index_names(state, attachment, true);
        Ok(())
    }

    /// One endpoint: an address, a veth pair (`eth<n>` inside), the default route for the
    /// first network.
    fn add_endpoint(
        &self,
        state: &mut State,
        inner: &mut Netlink,
        attachment: &Attachment,
        net: &NetworkRecord,
        cfg: &EndpointConfig,
        n: usize,
    ) -> Result<AttachedEndpoint> {
        let id = &attachment.container_id;
        let subnet = net
            .subnet()
            .ok_or_else(|| NetworkError::Invalid(format!("network {} has no subnet", net.name)))?;
        let gateway = net.gateway_ip().unwrap_or(subnet.first_host());
        let leases = state.ipam.entry(net.id.clone()).or_default();
        let ip = match &cfg.ipv4_address {
            Some(text) if !text.is_empty() => {
                let ip: Ipv4Addr = text
                    .parse()
                    .map_err(|_| NetworkError::Invalid(format!("invalid IPv4 address {text:?}")))?;
                if !subnet.contains(ip) || ip == gateway {
                    return Err(NetworkError::Invalid(format!(
                        "address {ip} is not usable in network {} ({subnet})",
                        net.name
                    )));
                }
                if !leases.claim(ip, id) {
                    return Err(NetworkError::Conflict(format!(
                        "Address {ip} already in use in network {}",
                        net.name
                    )));
                }
                ip
            }
            _ => leases.allocate(subnet, gateway, id).ok_or_else(|| {
                NetworkError::Conflict(format!("no address left in network {}", net.name))
            })?,
        };
        let ifname = format!("eth{n}");
        let host_veth = format!("veth{}", &random_id()[..10]);
        let mac = mac_of(ip);
        let ns = std::fs::File::open(&attachment.netns)
            .map_err(host_err("open the container's network namespace"))?;
        let mut nl = Netlink::open().map_err(host_err("open a netlink socket"))?;
        let master = nl
            .link_index(&net.bridge)
            .map_err(host_err(format!("find the bridge {}", net.bridge)))?;
        nl.add_veth(&host_veth, master, &ifname, mac, &ns)
            .map_err(host_err(format!("create the veth pair {host_veth}")))?;
        let index = inner
            .link_index(&ifname)
            .map_err(host_err(format!("find {ifname}")))?;
        inner
            .add_address(index, ip, subnet.prefix)
            .map_err(host_err(format!("address {ifname}")))?;
        inner
            .set_up(index)
            .map_err(host_err(format!("bring up {ifname}")))?;
        if n == 0 {
            inner
                .add_default_route(index, gateway)
                .map_err(host_err("add the default route"))?;
        }
        let mut aliases = cfg.aliases.clone();
        if net.has_dns() {
            // docker also answers to the short ID on user-defined networks.
            aliases.push(id[..12.min(id.len())].to_string());
        }
        Ok(AttachedEndpoint {
            network_name: net.name.clone(),
            endpoint: Endpoint {
                network_id: net.id.clone(),
                endpoint_id: random_id(),
                ip: ip.to_string(),
                prefix_len: subnet.prefix,
                gateway: gateway.to_string(),
                mac: mac_text(mac),
                aliases,
            },
            ifname,
            host_veth,
        })
    }

    /// Takes back what a failed attach did.
    fn undo(&self, state: &mut State, attachment: &Attachment) {
        let id = &attachment.container_id;
        state.attached.remove(id);
        state.reservations.remove(id);
        for leases in state.ipam.values_mut() {
            leases.release_owner(id);
        }
        let _ = self.files.save_ipam(&state.ipam);
        if !attachment.ports.is_empty() {
            let _ = self.update_rules(state, &attachment.primary);
        }
        let _ = netns::remove(&attachment.netns);
        let _ = std::fs::remove_file(self.containers_dir.join(id).join(STATE_FILE));
    }

    /// Ends a container's attachment: ports, rules, leases, names, namespace (with it the
    /// veth pairs). Nothing to do when it has none.
    pub fn detach(&self, container_id: &str) {
        let path = self.containers_dir.join(container_id).join(STATE_FILE);
        let mut state = self.lock();
        let attachment = match state.attached.remove(container_id) {
            Some(a) => Some(a),
            None => read_json::<Attachment>(&path).ok(),
        };
        let Some(attachment) = attachment else {
            return;
        };
        state.reservations.remove(container_id);
        self.index_names(&mut state, &attachment, false);
        for leases in state.ipam.values_mut() {
            leases.release_owner(container_id);
        }
        if let Err(e) = self.files.save_ipam(&state.ipam) {
            tracing::warn!("cannot save the address leases: {e}");
        }
        if !attachment.ports.is_empty() {
            if let Err(e) = self.update_rules(&mut state, &attachment.primary) {
                tracing::warn!("{container_id}: {e}");
            }
        }
        drop(state);
        if let Err(e) = netns::remove(&attachment.netns) {
            tracing::warn!("{container_id}: cannot remove the network namespace: {e}");
        }
        let _ = std::fs::remove_file(&path);
        self.publish_ports(&attachment, "remove");
        for (net_id, ep) in &attachment.endpoints {
            self.publish(
                Event::new("network", "disconnect", net_id)
                    .with("container", container_id)
                    .with("name", &ep.network_name)
                    .with("type", "bridge"),
            );
        }
    }

    fn publish_ports(&self, attachment: &Attachment, action: &str) {
        let container_ip = attachment
            .endpoints
            .get(&attachment.primary)
            .map(|e| e.endpoint.ip.clone())
            .unwrap_or_default();
        for p in &attachment.ports {
            self.publish(
                Event::new("port", action, &attachment.container_id)
                    .with("proto", &p.proto)
                    .with("host_ip", &p.host_ip)
                    .with("host_port", p.host_port.to_string())
                    .with("container_port", p.container_port.to_string())
                    .with("container_ip", &container_ip),
            );
        }
    }

    fn update_rules(&self, state: &mut State, net_id: &str) -> Result<()> {
        let Some(net) = state.networks.iter().find(|n| n.id == net_id).cloned() else {
            return Ok(());
        };
        let rules = port_rules(state, net_id);
        firewall::update(&net_rules(&net, &rules))
            .map_err(host_err(format!("write the rules of network {}", net.name)))
    }

    /// Adds (or removes) the attachment's names to the resolvers of its networks.
    fn index_names(&self, state: &mut State, attachment: &Attachment, add: bool) {
        for (net_id, ep) in &attachment.endpoints {
            let names = state.names.entry(net_id.clone()).or_default();
            let Ok(mut names) = names.write() else {
                continue;
            };
            let Ok(ip) = ep.endpoint.ip.parse::<Ipv4Addr>() else {
                continue;
            };
            let keys = std::iter::once(&attachment.container_name).chain(&ep.endpoint.aliases);
            for key in keys {
                let key = key.to_ascii_lowercase();
                let ips = names.entry(key.clone()).or_default();
                ips.retain(|x| *x != ip);
                if add {
                    ips.push(ip);
                }
                if ips.is_empty() {
                    names.remove(&key);
                }
            }
        }
    }

    /// The container's place on its networks, while it has one.
    pub fn container_network(&self, container_id: &str) -> Option<super::ContainerNetwork> {
        let state = self.lock();
        let a = state.attached.get(container_id)?;
        Some(super::ContainerNetwork {
            networks: a
                .endpoints
                .values()
                .map(|e| (e.network_name.clone(), e.endpoint.clone()))
                .collect(),
            ports: a.ports.clone(),
        })
    }

    // ---- networks ------------------------------------------------------------------

    pub fn list(&self) -> Vec<NetworkView> {
        let state = self.lock();
        state.networks.iter().map(|n| view(&state, n)).collect()
    }

    pub fn inspect(&self, reference: &str) -> Result<NetworkView> {
        let state = self.lock();
        let net = self.find(&state, reference)?;
        Ok(view(&state, net))
    }

    pub fn create(&self, req: NetworkCreate) -> Result<NetworkRecord> {
        validate_name(&req.name)?;
        let driver = match req.driver.as_str() {
            "" | "bridge" => "bridge",
            other => {
                return Err(NetworkError::Invalid(format!(
                    "plugin \"{other}\" not found: only the bridge driver is supported"
                )))
            }
        };
        let mut state = self.lock();
        if state.networks.iter().any(|n| n.name == req.name) {
            return Err(NetworkError::Conflict(format!(
                "network with name {} already exists",
                req.name
            )));
        }
        let taken: Vec<Subnet> = state.networks.iter().filter_map(|n| n.subnet()).collect();
        let subnet = match &req.subnet {
            Some(text) if !text.is_empty() => {
                let s: Subnet = text.parse().map_err(NetworkError::Invalid)?;
                let clash = taken
                    .iter()
                    .copied()
                    .chain(store::host_routes().into_iter().map(|(_, s)| s))
                    .find(|t| t.overlaps(s));
                if let Some(t) = clash {
                    return Err(NetworkError::Conflict(format!(
                        "invalid pool request: Pool overlaps with other one on this address space ({t})"
                    )));
                }
                s
            }
            _ => {
                let _host_lock = host::lock()?;
                let s = pick_subnet(&state.networks, &[]);
                if taken.contains(&s) {
                    return Err(NetworkError::Conflict(
                        "no free subnet left in the default pools".into(),
                    ));
                }
                s
            }
        };
        let gateway = match &req.gateway {
            Some(text) if !text.is_empty() => {
                let gw: Ipv4Addr = text
                    .parse()
                    .map_err(|_| NetworkError::Invalid(format!("invalid gateway {text:?}")))?;
                if !subnet.contains(gw) || gw == subnet.base || gw == subnet.last() {
                    return Err(NetworkError::Invalid(format!(
                        "gateway {gw} is not a host address of {subnet}"
                    )));
                }
                gw
            }
            _ => subnet.first_host(),
        };
        let id = random_id();
        let record = NetworkRecord {
            bridge: format!("br-{}", &id[..12]),
            id,
            name: req.name,
            driver: driver.into(),
            created: now(),
            internal: req.internal,
            attachable: req.attachable,
            labels: req.labels,
            options: req.options,
            subnet: subnet.to_string(),
            gateway: gateway.to_string(),
            predefined: false,
        };
        // The bridge now: its route then keeps other engines' subnets off this one.
        let record = self.ensure_bridge(&mut state, &record)?;
        state.networks.push(record.clone());
        if let Err(e) = self.files.save_networks(&state.networks) {
            state.networks.pop();
            drop(state);
            self.teardown_bridge(&record);
            return Err(host_err("save the networks")(e));
        }
        drop(state);
        self.publish(
            Event::new("network", "create", &record.id)
                .with("name", &record.name)
                .with("type", &record.driver),
        );
        Ok(record)
    }

    pub fn remove(&self, reference: &str) -> Result<()> {
        let mut state = self.lock();
        let net = self.find(&state, reference)?.clone();
        if net.predefined {
            return Err(NetworkError::Predefined(net.name));
        }
        if state
            .attached
            .values()
            .any(|a| a.endpoints.contains_key(&net.id))
        {
            return Err(NetworkError::Conflict(format!(
                "error while removing network: network {} id {} has active endpoints",
                net.name, net.id
            )));
        }
        state.networks.retain(|n| n.id != net.id);
        self.files
            .save_networks(&state.networks)
            .map_err(host_err("save the networks"))?;
        state.ipam.remove(&net.id);
        let _ = self.files.save_ipam(&state.ipam);
        state.resolvers.remove(&net.id);
        state.names.remove(&net.id);
        state.ready.remove(&net.id);
        drop(state);
        self.teardown_bridge(&net);
        self.publish(
            Event::new("network", "destroy", &net.id)
                .with("name", &net.name)
                .with("type", &net.driver),
        );
        Ok(())
    }

    fn teardown_bridge(&self, net: &NetworkRecord) {
        let _ = std::fs::remove_file(self.run_dir.join(&net.id));
        host::remove_bridge(&net.id, &net.bridge);
    }

    /// Removes every user-defined network without containers that `keep` does not keep;
    /// their names.
    pub fn prune(&self, keep: impl Fn(&NetworkRecord) -> bool) -> Vec<String> {
        let candidates: Vec<NetworkRecord> = {
            let state = self.lock();
            state
                .networks
                .iter()
                .filter(|n| !n.predefined && !keep(n))
                .filter(|n| {
                    !state
                        .attached
                        .values()
                        .any(|a| a.endpoints.contains_key(&n.id))
                })
                .cloned()
                .collect()
        };
        candidates
            .into_iter()
            .filter(|n| self.remove(&n.id).is_ok())
            .map(|n| n.name)
            .collect()
    }

    /// Connects a container. A running one (`running`) gets its interface at once; in all
    /// cases it joins the network at its next starts.
    pub fn connect(
        &self,
        record: &ContainerRecord,
        container_dir: &Path,
        reference: &str,
        cfg: EndpointConfig,
        running: bool,
    ) -> Result<()> {
        let mut membership = self.membership(container_dir, &record.config);
        let mut state = self.lock();
        let net = self.find(&state, reference)?.clone();
        // What the container was created with decides, not what is left after
        // disconnects: compose disconnects a created container from its network and
        // connects it again with its aliases.
        let created_mode = Membership::of(&record.config).mode;
        if matches!(created_mode.as_str(), "host" | "none")
            || created_mode.starts_with("container:")
            || !net.is_bridge()
        {
            return Err(NetworkError::Invalid(format!(
                "container sharing network namespace with another container or host cannot be connected to any other network ({})",
                net.name
            )));
        }
        let live = running && state.attached.contains_key(&record.id);
        let connected = membership.networks.contains_key(&net.name)
            || (live && state.attached[&record.id].endpoints.contains_key(&net.id));
        if connected {
            return Err(NetworkError::Conflict(format!(
                "endpoint with name {} already exists in network {}",
                record.name, net.name
            )));
        }
        if live {
            let net = self.ensure_bridge(&mut state, &net)?;
            let mut attachment = state.attached[&record.id].clone();
            let n = (0..)
                .find(|i| {
                    !attachment
                        .endpoints
                        .values()
                        .any(|e| e.ifname == format!("eth{i}"))
                })
                .unwrap_or(0);
            let mut inner = Netlink::open_in(&attachment.netns)
                .map_err(host_err("open the container's network namespace"))?;
            let ep = match self.add_endpoint(&mut state, &mut inner, &attachment, &net, &cfg, n) {
                Ok(ep) => ep,
                Err(e) => {
                    if let Some(l) = state.ipam.get_mut(&net.id) {
                        l.leased
                            .retain(|_, o| o != &record.id || attachment.endpoints.is_empty());
                    }
                    return Err(e);
                }
            };
            attachment.endpoints.insert(net.id.clone(), ep);
            let _ = self.files.save_ipam(&state.ipam);
            let path = container_dir.join(STATE_FILE);
            write_json_atomic(&path, &attachment).map_err(host_err("save the network state"))?;
            self.index_names(&mut state, &attachment, true);
            state.attached.insert(record.id.clone(), attachment);
        }
        if membership.mode == "none" {
            // Disconnected from everything earlier: this network becomes its primary.
            membership.mode = net.name.clone();
        }
        membership.networks.insert(net.name.clone(), cfg);
        write_json_atomic(&container_dir.join(MEMBERSHIP_FILE), &membership)
            .map_err(host_err("save the container's networks"))?;
        drop(state);
        self.publish(
            Event::new("network", "connect", &net.id)
                .with("container", &record.id)
                .with("name", &net.name)
                .with("type", &net.driver),
        );
        Ok(())
    }

    /// Disconnects a container; a running one loses its interface at once.
    pub fn disconnect(
        &self,
        record: &ContainerRecord,
        container_dir: &Path,
        reference: &str,
        force: bool,
    ) -> Result<()> {
        let mut membership = self.membership(container_dir, &record.config);
        let mut state = self.lock();
        let net = match self.find(&state, reference) {
            Ok(net) => net.clone(),
            Err(e) if force => {
                drop(state);
                membership.networks.remove(reference);
                let _ = write_json_atomic(&container_dir.join(MEMBERSHIP_FILE), &membership);
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let live_ep = state
            .attached
            .get(&record.id)
            .and_then(|a| a.endpoints.get(&net.id).cloned());
        if !membership.networks.contains_key(&net.name) && live_ep.is_none() {
            return Err(NetworkError::Invalid(format!(
                "container {} is not connected to network {}",
                record.id, net.name
            )));
        }
        if let Some(ep) = live_ep {
            let mut attachment = state.attached[&record.id].clone();
            // Deleting the host end removes the container's end with it.
            let mut nl = Netlink::open().map_err(host_err("open a netlink socket"))?;
            nl.delete_link(&ep.host_veth)
                .map_err(host_err(format!("remove {}", ep.host_veth)))?;
            self.index_names(&mut state, &attachment, false);
            attachment.endpoints.remove(&net.id);
            if let Some(l) = state.ipam.get_mut(&net.id) {
                l.release_owner(&record.id);
            }
            let _ = self.files.save_ipam(&state.ipam);
            let mut dropped = Attachment::default();
            if attachment.primary == net.id && !attachment.ports.is_empty() {
                // The ports went to this network's address: they end with it.
                dropped = attachment.clone();
                dropped.endpoints.insert(net.id.clone(), ep.clone());
                attachment.ports.clear();
                state.reservations.remove(&record.id);
            }
            self.index_names(&mut state, &attachment, true);
            state.attached.insert(record.id.clone(), attachment.clone());
            if !dropped.ports.is_empty() {
                self.update_rules(&mut state, &net.id)?;
                self.publish_ports(&dropped, "remove");
            }
            write_json_atomic(&container_dir.join(STATE_FILE), &attachment)
                .map_err(host_err("save the network state"))?;
        }
        membership.networks.remove(&net.name);
        if membership.mode == net.name {
            membership.mode = membership
                .networks
                .keys()
                .next()
                .cloned()
                .unwrap_or("none".into());
        }
        write_json_atomic(&container_dir.join(MEMBERSHIP_FILE), &membership)
            .map_err(host_err("save the container's networks"))?;
        drop(state);
        self.publish(
            Event::new("network", "disconnect", &net.id)
                .with("container", &record.id)
                .with("name", &net.name)
                .with("type", &net.driver),
        );
        Ok(())
    }

    /// Removes everything this engine put on the host (bridges, rules); its records stay.
    /// For tests and for an engine root being deleted: running containers lose their
    /// networking.
    pub fn remove_host_state(&self) {
        let networks: Vec<NetworkRecord> = self.lock().networks.clone();
        for net in networks.iter().filter(|n| n.is_bridge()) {
            self.lock().resolvers.remove(&net.id);
            self.teardown_bridge(net);
            self.lock().ready.remove(&net.id);
        }
    }
}

fn find_in<'s>(networks: &'s [NetworkRecord], reference: &str) -> Result<&'s NetworkRecord> {
    if let Some(n) = networks
        .iter()
        .find(|n| n.id == reference || n.name == reference)
    {
        return Ok(n);
    }
    let matches: Vec<&NetworkRecord> = networks
        .iter()
        .filter(|n| !reference.is_empty() && n.id.starts_with(reference))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(NetworkError::NotFound(reference.to_string())),
        _ => Err(NetworkError::Invalid(format!(
            "network {reference} is ambiguous ({} matches found based on ID prefix)",
            matches.len()
        ))),
    }
}

fn view(state: &State, net: &NetworkRecord) -> NetworkView {
    let containers = state
        .attached
        .values()
        .filter_map(|a| {
            let ep = a.endpoints.get(&net.id)?;
            Some((
                a.container_id.clone(),
                (a.container_name.clone(), ep.endpoint.clone()),
            ))
        })
        .collect();
    NetworkView {
        record: net.clone(),
        containers,
    }
}

/// The published ports that go through network `net_id`.
fn port_rules(state: &State, net_id: &str) -> Vec<PortRule> {
    let mut out = Vec::new();
    for a in state.attached.values().filter(|a| a.primary == net_id) {
        let Some(ip) = a
            .endpoints
            .get(net_id)
            .and_then(|e| e.endpoint.ip.parse::<Ipv4Addr>().ok())
        else {
            continue;
        };
        for p in &a.ports {
            out.push(PortRule {
                proto: if p.proto == "udp" {
                    ports::Proto::Udp
                } else {
                    ports::Proto::Tcp
                },
                host_ip: p.host_ip.parse().unwrap_or(Ipv4Addr::LOCALHOST),
                host_port: p.host_port,
                container_ip: ip,
                container_port: p.container_port,
            });
        }
    }
    out
}

fn net_rules<'a>(net: &'a NetworkRecord, ports: &'a [PortRule]) -> NetRules<'a> {
    NetRules {
        id: &net.id,
        bridge: &net.bridge,
        subnet: &net.subnet,
        internal: net.internal,
        ports,
    }
}

/// The first subnet of the pools that overlaps no network of this engine, no route of
/// the host and nothing in `also`.
fn pick_subnet(networks: &[NetworkRecord], also: &[Subnet]) -> Subnet {
    let routes: Vec<Subnet> = store::host_routes().into_iter().map(|(_, s)| s).collect();
    let ours: Vec<Subnet> = networks.iter().filter_map(|n| n.subnet()).collect();
    let registered = host::registered_subnets();
    store::pool()
        .find(|s| {
            !routes
                .iter()
                .chain(&ours)
                .chain(also)
                .chain(&registered)
                .any(|t| t.overlaps(*s))
        })
        .unwrap_or_else(|| store::pool().next().expect("pool is not empty"))
}

/// docker's network name rule.
fn validate_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok {
        return Err(NetworkError::Invalid(format!(
            "invalid network name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )));
    }
    Ok(())
}
