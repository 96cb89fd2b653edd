"""CUDA memory shared between the scorer and the worker that runs the submission (CUDA IPC, driver API).

The scorer allocates the input and answer buffers, exports each as a 64-byte IPC handle plus an offset (plain bytes:
nothing is unpickled on either side), and the worker maps them. The driver API (libcuda.so.1, shipped with the
NVIDIA driver) is used directly, not torch.multiprocessing: torch's CUDA sharing keeps a reference counter in a
/dev/shm file created 0600 by the exporting user, which a worker running as another user (the agent, through
$REBENCH_AGENT_EXEC) could not open. Not run on the development VM (no GPU). Kept as identical copies in the
GPU variants' scoring folders that use it (Tasks.Tests, BundleCopiesTests).
"""
import ctypes
import struct

HANDLE_BYTES = 64
BLOB_BYTES = HANDLE_BYTES + 8  # the handle and the offset of the tensor in its allocation
CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS = 1


class _Handle(ctypes.Structure):
    _fields_ = [("reserved", ctypes.c_char * HANDLE_BYTES)]


def _driver():
    lib = ctypes.CDLL("libcuda.so.1")
    lib.cuMemGetAddressRange_v2.argtypes = [ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_size_t), ctypes.c_uint64]
    lib.cuIpcGetMemHandle.argtypes = [ctypes.POINTER(_Handle), ctypes.c_uint64]
    lib.cuIpcOpenMemHandle_v2.argtypes = [ctypes.POINTER(ctypes.c_uint64), _Handle, ctypes.c_uint]
    return lib


def _check(result, what):
    if result != 0:
        raise RuntimeError(f"{what} failed: CUresult {result}")


def export(tensor) -> bytes:
    """The blob that lets another process map this (contiguous CUDA) tensor's memory."""
    lib = _driver()
    base, size = ctypes.c_uint64(), ctypes.c_size_t()
    _check(lib.cuMemGetAddressRange_v2(ctypes.byref(base), ctypes.byref(size), tensor.data_ptr()), "cuMemGetAddressRange")
    handle = _Handle()
    _check(lib.cuIpcGetMemHandle(ctypes.byref(handle), base.value), "cuIpcGetMemHandle")
    return bytes(handle.reserved).ljust(HANDLE_BYTES, b"\0") + struct.pack("<Q", tensor.data_ptr() - base.value)


class _Array:
    """A C-contiguous array at a device address, for torch.as_tensor (the CUDA array interface)."""

    def __init__(self, address: int, shape: tuple, typestr: str):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "data": (address, False), "version": 2, "strides": None}


def open_tensor(torch, blob: bytes, shape: tuple, typestr: str):
    """The exporting process's tensor (shape, numpy typestr such as "<i4", "<f4", "<i8"), mapped into this one
    (CUDA must be initialized here); the exporter must have made it contiguous and keep it alive."""
    lib = _driver()
    handle = _Handle.from_buffer_copy(blob[:HANDLE_BYTES])
    offset = struct.unpack("<Q", blob[HANDLE_BYTES:BLOB_BYTES])[0]
    address = ctypes.c_uint64()
    _check(lib.cuIpcOpenMemHandle_v2(ctypes.byref(address), handle, CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS), "cuIpcOpenMemHandle")
    return torch.as_tensor(_Array(address.value + offset, tuple(shape), typestr), device="cuda")
