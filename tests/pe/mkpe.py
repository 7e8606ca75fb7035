#!/usr/bin/env python3
"""mkpe.py OUT: writes a minimal valid PE32 executable (i386 console program whose entry point
is `ret`), enough for osslsigncode to sign, timestamp and verify.  Made here, never downloaded:
DOS header, PE signature, COFF header, optional header with 16 data directories (the
certificate table is entry 4, left empty for the signer), one .text section."""
import struct
import sys

FILE_ALIGN = 0x200
SECT_ALIGN = 0x1000
IMAGE_BASE = 0x400000

dos = bytearray(64)
dos[0:2] = b"MZ"
struct.pack_into("<I", dos, 0x3C, 64)          # e_lfanew: the PE header follows at once

coff = struct.pack("<HHIIIHH",
                   0x14C,        # Machine: i386
                   1,            # NumberOfSections
                   0,            # TimeDateStamp
                   0, 0,         # no symbol table
                   224,          # SizeOfOptionalHeader (PE32, 16 directories)
                   0x0102)       # EXECUTABLE_IMAGE | 32BIT_MACHINE

headers_size = 64 + 4 + 20 + 224 + 40
size_of_headers = (headers_size + FILE_ALIGN - 1) // FILE_ALIGN * FILE_ALIGN
text = b"\xC3"                                  # ret
text_raw = FILE_ALIGN

opt = struct.pack("<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII",
                  0x10B, 14, 0,                  # PE32, linker version
                  text_raw, 0, 0,                # SizeOfCode, initialised, uninitialised
                  SECT_ALIGN,                    # AddressOfEntryPoint
                  SECT_ALIGN,                    # BaseOfCode
                  0,                             # BaseOfData
                  IMAGE_BASE, SECT_ALIGN, FILE_ALIGN,
                  6, 0, 0, 0, 6, 0,              # OS, image, subsystem versions
                  0,                             # Win32VersionValue
                  2 * SECT_ALIGN,                # SizeOfImage
                  size_of_headers,
                  0,                             # CheckSum (the signer computes it)
                  3,                             # Subsystem: console
                  0x8140,                        # DllCharacteristics: NX, dynamic base, TS aware
                  0x100000, 0x1000, 0x100000, 0x1000,
                  0,                             # LoaderFlags
                  16)                            # NumberOfRvaAndSizes
opt += bytes(16 * 8)                             # all data directories empty
assert len(opt) == 224

section = struct.pack("<8sIIIIIIHHI", b".text",
                      len(text), SECT_ALIGN, text_raw, size_of_headers,
                      0, 0, 0, 0,
                      0x60000020)                # CODE | EXECUTE | READ

image = bytearray(dos + b"PE\0\0" + coff + opt + section)
image += bytes(size_of_headers - len(image))
image += text + bytes(text_raw - len(text))

with open(sys.argv[1], "wb") as f:
    f.write(image)
