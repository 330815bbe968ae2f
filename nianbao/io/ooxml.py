"""Safety checks of an Office Open XML package (.docx / .xlsx) before any library parses it.

A package is a zip: a zip bomb (members that decompress to gigabytes), a package of thousands of
members, or an XML member with a DTD (entity expansion: "billion laughs", external entities) is
refused with a U05 reason before python-docx or openpyxl see it.  The sizes are read from the zip
directory and then enforced while decompressing (a directory that lies about a size cannot make a
member decompress to more than the limit).  Every XML member is scanned with defusedxml
(``forbid_dtd``), whose parser refuses DTDs, entity declarations and external references.
"""

from __future__ import annotations

import io
import zipfile

from nianbao.io.limits import Limits, Unreadable

CHUNK = 1 << 20


def checked_package(data: bytes, limits: Limits, what: str) -> zipfile.ZipFile:
    """The opened zip of a .docx/.xlsx after the bomb checks; raises Unreadable."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as e:
        raise Unreadable("U01", detail=f"{what}文件已损坏（压缩包结构不完整，无法打开）") from e
    if len(infos) > limits.max_zip_entries:
        raise Unreadable("U05", detail=f"{what}文件包含 {len(infos)} 个成员，超过上限 {limits.max_zip_entries} 个")
    declared = sum(i.file_size for i in infos)
    cap = limits.max_unzipped_bytes
    if declared > cap:
        raise Unreadable(
            "U05",
            detail=f"{what}文件解压后共 {declared / 1024 / 1024:.0f} MB，"
            f"超过上限 {limits.max_unzipped_mb:g} MB（疑似压缩炸弹）",
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise Unreadable("U01", detail=f"{what}文件已加密（有打开密码）")
        if not info.filename.endswith((".xml", ".rels")) and total + info.file_size <= cap:
            total += info.file_size
            continue
        blob = bytearray()
        try:
            with z.open(info) as fh:
                while chunk := fh.read(CHUNK):
                    blob += chunk
                    total += len(chunk)
                    if total > cap or len(blob) > info.file_size:
                        raise Unreadable(
                            "U05",
                            detail=f"{what}文件解压后超过上限 {limits.max_unzipped_mb:g} MB（疑似压缩炸弹）",
                        )
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as e:
            raise Unreadable("U01", detail=f"{what}文件已损坏（其中的 {info.filename} 无法解压）") from e
        if info.filename.endswith((".xml", ".rels")):
            _no_dtd(bytes(blob), info.filename, what)
    return z


def _no_dtd(xml: bytes, member: str, what: str) -> None:
    import defusedxml.ElementTree as det
    from defusedxml import DefusedXmlException

    head = xml[:4096]
    utf16 = xml.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head
    if b"<!" not in xml and not utf16:
        return  # no markup declaration at all: nothing to defuse (the common case, no second parse)
    try:
        for _ev, _el in det.iterparse(io.BytesIO(xml), forbid_dtd=True, forbid_entities=True, forbid_external=True):
            pass
    except DefusedXmlException as e:
        raise Unreadable("U05", detail=f"{what}文件的 {member} 含有 XML 文档类型或实体声明（疑似 XML 炸弹）") from e
    except Exception as e:  # ParseError: a broken member
        if b"<!DOCTYPE" in head or b"<!ENTITY" in xml:
            raise Unreadable("U05", detail=f"{what}文件的 {member} 含有 XML 实体声明（疑似 XML 炸弹）") from e
        raise Unreadable("U01", detail=f"{what}文件的 {member} 不是有效的 XML") from e
