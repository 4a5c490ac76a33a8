//! The bpf(2) calls behind cgroup v2 device rules, with the kernel's layouts from
//! `linux/bpf.h` (`struct bpf_insn`, the members of `union bpf_attr`, `struct
//! bpf_prog_info`). libc has the syscall number but none of these types, and a crate
//! such as aya or libbpf would be far more than one small program needs.
//!
//! Each attribute struct spells out its padding as fields so that every byte the kernel
//! reads is initialised (it rejects non-zero bytes in fields it does not know).

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// One eBPF instruction, as the kernel's `struct bpf_insn`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Insn {
    pub code: u8,
    /// dst_reg and src_reg, two 4-bit fields whose order follows the byte order.
    regs: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Self {
        let regs = if cfg!(target_endian = "little") {
            (src << 4) | (dst & 0x0f)
        } else {
            (dst << 4) | (src & 0x0f)
        };
        Insn {
            code,
            regs,
            off,
            imm,
        }
    }

    #[cfg(test)]
    pub fn dst(&self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs & 0x0f
        } else {
            self.regs >> 4
        }
    }

    #[cfg(test)]
    pub fn src(&self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs >> 4
        } else {
            self.regs & 0x0f
        }
    }
}

/// The opcodes the device program uses (class | operation | source).
pub(crate) mod op {
    /// dst = *(u32 *)(src + off)
    pub const LDX_W: u8 = 0x61;
    /// dst = src, 32-bit (the upper half is zeroed)
    pub const MOV32_REG: u8 = 0xbc;
    /// dst &= imm, 32-bit
    pub const AND32_IMM: u8 = 0x54;
    /// dst >>= imm, 32-bit
    pub const RSH32_IMM: u8 = 0x74;
    /// dst = imm, 64-bit
    pub const MOV64_IMM: u8 = 0xb7;
    /// if dst != imm goto pc + 1 + off (64-bit compare, imm sign-extended)
    pub const JNE_IMM: u8 = 0x55;
    /// if dst == imm goto pc + 1 + off
    pub const JEQ_IMM: u8 = 0x15;
    /// return r0
    pub const EXIT: u8 = 0x95;
}

const CMD_PROG_LOAD: libc::c_int = 5;
const CMD_PROG_ATTACH: libc::c_int = 8;
const CMD_PROG_DETACH: libc::c_int = 9;
const CMD_PROG_GET_FD_BY_ID: libc::c_int = 13;
const CMD_OBJ_GET_INFO_BY_FD: libc::c_int = 15;
const CMD_PROG_QUERY: libc::c_int = 16;

const PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const ATTACH_CGROUP_DEVICE: u32 = 6;
/// Programs of the cgroup and of its ancestors all run; each must allow an access.
const F_ALLOW_MULTI: u32 = 2;
/// The verifier's basic log level.
const LOG_LEVEL_BASIC: u32 = 1;

/// No GPL-only helper is called, so the kernel takes any license string.
const LICENSE: &CStr = c"Apache-2.0";

/// `union bpf_attr` for BPF_PROG_LOAD, up to `prog_name` (Linux 4.15, like the program
/// type itself); later fields are left to the kernel's zero default.
#[repr(C)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
}

/// `union bpf_attr` for BPF_PROG_ATTACH and BPF_PROG_DETACH.
#[repr(C)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

/// `union bpf_attr` for BPF_PROG_QUERY.
#[repr(C)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    padding: u32,
}

/// `union bpf_attr` for BPF_PROG_GET_FD_BY_ID.
#[repr(C)]
struct GetFdByIdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// `union bpf_attr` for BPF_OBJ_GET_INFO_BY_FD.
#[repr(C)]
struct InfoByFdAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// `struct bpf_prog_info` up to `name`; the kernel fills in as much as `info_len` holds.
#[repr(C)]
#[derive(Default)]
struct ProgInfo {
    prog_type: u32,
    id: u32,
    tag: [u8; 8],
    jited_prog_len: u32,
    xlated_prog_len: u32,
    jited_prog_insns: u64,
    xlated_prog_insns: u64,
    load_time: u64,
    created_by_uid: u32,
    nr_map_ids: u32,
    map_ids: u64,
    name: [u8; 16],
}

/// bpf(2) with `attr` as its attribute block.
///
/// # Safety
/// `T` must be one of the `#[repr(C)]` attribute structs above, matching `cmd`, and every
/// address stored in it must point to memory valid for what the kernel does with it
/// during the call (read the instructions, write the log or ids) and of the size given.
unsafe fn bpf<T>(cmd: libc::c_int, attr: &mut T) -> io::Result<libc::c_long> {
    let size = std::mem::size_of::<T>() as libc::c_uint;
    // SAFETY: `attr` is a live, fully initialised `T` of `size` bytes; the caller
    // guarantees the addresses inside it.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, size) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ret)
}

/// An fd the kernel just returned from bpf(2).
fn owned_fd(ret: libc::c_long) -> io::Result<OwnedFd> {
    let fd = libc::c_int::try_from(ret).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: bpf(2) returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn fd_u32(fd: BorrowedFd<'_>) -> u32 {
    // A borrowed descriptor is never negative.
    fd.as_raw_fd() as u32
}

/// Loads a BPF_PROG_TYPE_CGROUP_DEVICE program named `name` (at most 15 bytes of
/// `[A-Za-z0-9_.]`). With `log`, the verifier writes its report there.
pub(crate) fn load_device_program(
    insns: &[Insn],
    name: &str,
    log: Option<&mut [u8]>,
) -> io::Result<OwnedFd> {
    let mut prog_name = [0u8; 16];
    let len = name.len().min(prog_name.len() - 1);
    prog_name[..len].copy_from_slice(&name.as_bytes()[..len]);
    let (log_level, log_size, log_buf) = match log {
        Some(buf) => (LOG_LEVEL_BASIC, buf.len() as u32, buf.as_mut_ptr() as u64),
        None => (0, 0, 0),
    };
    let mut attr = ProgLoadAttr {
        prog_type: PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: u32::try_from(insns.len())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
        insns: insns.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        log_level,
        log_size,
        log_buf,
        kern_version: 0,
        prog_flags: 0,
        prog_name,
    };
    // SAFETY: `insns` (insn_cnt instructions), the NUL-terminated license and the log
    // buffer (log_size bytes, exclusively borrowed) all outlive the call.
    let ret = unsafe { bpf(CMD_PROG_LOAD, &mut attr)? };
    owned_fd(ret)
}

/// Adds `prog` to the device programs of the cgroup open as `cgroup`.
pub(crate) fn attach_device_program(
    cgroup: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
) -> io::Result<()> {
    let mut attr = AttachAttr {
        target_fd: fd_u32(cgroup),
        attach_bpf_fd: fd_u32(prog),
        attach_type: ATTACH_CGROUP_DEVICE,
        attach_flags: F_ALLOW_MULTI,
    };
    // SAFETY: the attribute block holds descriptors only, no addresses.
    unsafe { bpf(CMD_PROG_ATTACH, &mut attr)? };
    Ok(())
}

/// Removes `prog` from the device programs of the cgroup open as `cgroup`.
pub(crate) fn detach_device_program(
    cgroup: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
) -> io::Result<()> {
    let mut attr = AttachAttr {
        target_fd: fd_u32(cgroup),
        attach_bpf_fd: fd_u32(prog),
        attach_type: ATTACH_CGROUP_DEVICE,
        attach_flags: 0,
    };
    // SAFETY: the attribute block holds descriptors only, no addresses.
    unsafe { bpf(CMD_PROG_DETACH, &mut attr)? };
    Ok(())
}

/// The ids of the device programs attached to the cgroup itself (not its ancestors).
pub(crate) fn attached_device_programs(cgroup: BorrowedFd<'_>) -> io::Result<Vec<u32>> {
    let mut ids = vec![0u32; 8];
    loop {
        let mut attr = QueryAttr {
            target_fd: fd_u32(cgroup),
            attach_type: ATTACH_CGROUP_DEVICE,
            query_flags: 0,
            attach_flags: 0,
            prog_ids: ids.as_mut_ptr() as u64,
            prog_cnt: ids.len() as u32,
            padding: 0,
        };
        // SAFETY: prog_ids points to `prog_cnt` writable u32s that outlive the call.
        match unsafe { bpf(CMD_PROG_QUERY, &mut attr) } {
            Ok(_) => {
                ids.truncate(attr.prog_cnt as usize);
                return Ok(ids);
            }
            // The kernel stored the real count: make room and ask again.
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => {
                ids.resize(attr.prog_cnt as usize, 0);
            }
            Err(e) => return Err(e),
        }
    }
}

/// A new descriptor for the loaded program `id`.
pub(crate) fn program_by_id(id: u32) -> io::Result<OwnedFd> {
    let mut attr = GetFdByIdAttr {
        prog_id: id,
        next_id: 0,
        open_flags: 0,
    };
    // SAFETY: the attribute block holds an id only, no addresses.
    let ret = unsafe { bpf(CMD_PROG_GET_FD_BY_ID, &mut attr)? };
    owned_fd(ret)
}

/// The name `prog` was loaded with.
pub(crate) fn program_name(prog: BorrowedFd<'_>) -> io::Result<String> {
    let mut info = ProgInfo::default();
    let mut attr = InfoByFdAttr {
        bpf_fd: fd_u32(prog),
        info_len: std::mem::size_of::<ProgInfo>() as u32,
        info: &mut info as *mut ProgInfo as u64,
    };
    // SAFETY: `info` is a writable ProgInfo of info_len bytes that outlives the call; its
    // zero lengths keep the kernel from following any of its address fields.
    unsafe { bpf(CMD_OBJ_GET_INFO_BY_FD, &mut attr)? };
    let end = info
        .name
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(info.name.len());
    Ok(String::from_utf8_lossy(&info.name[..end]).into_owned())
}
