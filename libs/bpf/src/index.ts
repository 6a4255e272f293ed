// Objects
export { BpfObject, decodeGlobal, encodeGlobal, resolveOpenOptions, verifierSummary } from './object.js';
export type { GlobalValue, ObjectState, OpenOptions } from './object.js';

// Programs and test runs
export { BPF_PROG_TYPE, BpfProgram, decodeProgramInfo, enableRunTimeStats, programInfoByFd, programInfoById } from './program.js';
export type { ProgramFdSource, ProgramInfo, RunTimeStats } from './program.js';
export { TC_ACTION, TEST_RUN_FLAGS, XDP_ACTION, testRun } from './test-run.js';
export type { TestRunOptions, TestRunResult } from './test-run.js';

// Maps
export { BPF_MAP_TYPE, BpfMap, UPDATE_FLAGS, decodeMapInfo, mapInfoByFd, possibleCpus } from './map.js';
export type { CreateMapSpec, MapEntry, MapFdSource, MapInfo, MapMeta, MapTypeName, PerCpuMapEntry, UpdateFlag } from './map.js';
export { BPF_F_MMAPABLE, MappedArray, isMmapable } from './mmap.js';

// XDP attachment
export { XDP_FLAGS, XdpAttachment, attachXdp, detachXdp, queryXdp, resolveIface, resolveIfindex, xdpProgramId } from './link.js';
export type { XdpAttachOptions, XdpAttachedMode, XdpMode, XdpQuery } from './link.js';

// Links (bpf_link: XDP and cgroup attachments that outlive the process once pinned)
export { BpfLink, attachCgroupLink, attachXdpLink, createLink, decodeLinkInfo, linkInfoByFd } from './bpf-link.js';
export type { LinkInfo } from './bpf-link.js';

// TC (clsact, direct-action filters)
export { TcAttachment, attachTc, destroyClsact, detachTc, ensureClsact, queryTc } from './tc.js';
export type { TcAttachOptions, TcDirection, TcFilterId } from './tc.js';

// BPF_PROG_ATTACH: sockmap programs and cgroup programs; attach types
export {
  attachCgroup, attachToSockmap, detachCgroup, detachFromSockmap, queryAttached, queryCgroup, querySockmap,
} from './prog-attach.js';
export type { AttachedPrograms, CgroupAttachMode } from './prog-attach.js';
export {
  ATTACH_FLAGS, ATTACH_TYPE, CGROUP_ATTACH_TYPES, LINK_TYPES, SOCKMAP_ATTACH_TYPES, attachTypeName, attachTypeNumber, checkProgramFits,
} from './attach-type.js';
export type { AttachTypeName, CgroupAttachType, SockmapAttachType } from './attach-type.js';
export { cgroup2Mounts, cgroup2Root, cgroupId, removeStaleCgroups, resolveCgroupPath, withCgroupFd } from './cgroup.js';

// Typed views of keys and values
export { CodecRegistry, btfCodec, codecName, decodeBtf, encodeBtf, mapBtfTypes, structCodecs } from './btf-codec.js';
export type { BtfValue, StructCodec } from './btf-codec.js';

// BTF and ELF
export { BTF_KINDS, Btf, checkStructLayout } from './btf.js';
export type { BtfKind, BtfMember, BtfSecinfo, BtfType, DatasecVariable, ExpectedLayout, MemberLayout, StructLayout } from './btf.js';
export { ElfFile } from './elf.js';
export type { ElfSection, ElfSymbol } from './elf.js';

// bpffs and descriptors
export { BPFFS_DEFAULT, ensureBpffs, isBpffsMounted } from './bpffs.js';
export { OwnedFd, bpfFdKind, objGet } from './fd.js';
export type { BpfFdKind } from './fd.js';

// Logging
export { LIBBPF_LEVEL, setLibbpfLogger, withLibbpfLog } from './log.js';
export type { LibbpfLevelName, LibbpfMessage } from './log.js';

// Errors and errno
export {
  BPF_ERRORS,
  NA_ERR_BPF_BTF,
  NA_ERR_BPF_BUSY,
  NA_ERR_BPF_EXISTS,
  NA_ERR_BPF_HOOK_BUSY,
  NA_ERR_BPF_INVALID,
  NA_ERR_BPF_KEY_SIZE,
  NA_ERR_BPF_LIBBPF,
  NA_ERR_BPF_LOAD,
  NA_ERR_BPF_MAP_FULL,
  NA_ERR_BPF_NOT_FOUND,
  NA_ERR_BPF_NO_IFACE,
  NA_ERR_BPF_OPEN,
  NA_ERR_BPF_PERM,
  NA_ERR_BPF_STATE,
  NA_ERR_BPF_SYSCALL,
  NA_ERR_BPF_TEST_RUN,
  NA_ERR_BPF_VALUE_SIZE,
  NA_ERR_BPF_VERIFIER,
} from './errors.js';
export { ERRNO, describeErrno, errnoKind, errnoMessage, errnoName, errnoNumber } from './errno.js';
