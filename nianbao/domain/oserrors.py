"""Operating-system errors in the auditor's words: ``errno`` → a Chinese reason, never ``strerror``.

``OSError.strerror`` is the C library's English text ("Permission denied", "No space left on
device"); a Chinese sentence around it reads as a crash.  Every user-facing message about a file
that could not be read or written takes its reason from here.
"""

from __future__ import annotations

import errno

# errno → reason (a clause that follows the path: "<path>：权限不足")
_REASONS: dict[int, str] = {
    errno.EACCES: "权限不足",
    errno.EPERM: "权限不足（操作不被允许）",
    errno.ENOENT: "文件或文件夹不存在",
    errno.ENOTDIR: "路径中有一部分是文件而不是文件夹",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.EEXIST: "已存在同名的文件或文件夹",
    errno.ENOTEMPTY: "文件夹不是空的",
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "超出磁盘配额",
    errno.EFBIG: "文件过大",
    errno.EROFS: "文件系统是只读的",
    errno.ENAMETOOLONG: "文件名或路径过长",
    errno.ELOOP: "符号链接层数过多（可能是循环链接）",
    errno.EMFILE: "同时打开的文件过多",
    errno.ENFILE: "系统同时打开的文件过多",
    errno.EBUSY: "文件或设备正被占用",
    errno.ETXTBSY: "文件正被占用",
    errno.EIO: "读写设备出错（磁盘或网络存储故障）",
    errno.EXDEV: "不能跨文件系统移动",
    errno.ENXIO: "设备不存在",
    errno.ENODEV: "设备不存在",
    errno.EINVAL: "文件名或参数无效",
    errno.ENOMEM: "内存不足",
    errno.EAGAIN: "资源暂时不可用，请稍后再试",
    errno.EINTR: "操作被中断",
    errno.ETIMEDOUT: "连接超时",
    errno.ECONNREFUSED: "连接被拒绝",
    errno.EPIPE: "输出管道已关闭",
}

_BY_CLASS: tuple[tuple[type[OSError], str], ...] = (
    (PermissionError, "权限不足"),
    (FileNotFoundError, "文件或文件夹不存在"),
    (FileExistsError, "已存在同名的文件或文件夹"),
    (IsADirectoryError, "这是一个文件夹，不是文件"),
    (NotADirectoryError, "路径中有一部分是文件而不是文件夹"),
    (TimeoutError, "连接超时"),
)


def os_reason(e: OSError) -> str:
    """Why the operation failed, in Chinese (no English ``strerror``)."""
    if e.errno is not None and e.errno in _REASONS:
        return _REASONS[e.errno]
    for cls, reason in _BY_CLASS:
        if isinstance(e, cls):
            return reason
    if e.errno is not None:
        name = errno.errorcode.get(e.errno, str(e.errno))
        return f"操作系统报错（错误号 {name}）"
    return "操作系统报错"


def error_text(e: BaseException) -> str:
    """An exception for a Chinese line: an ``OSError`` as :func:`os_error_text`; anything else (a bug)
    by its type and text, for the maintainers."""
    if isinstance(e, OSError):
        return os_error_text(e)
    return f"{type(e).__name__}: {e}"


def os_error_text(e: OSError) -> str:
    """``<path>：<reason>`` (``<path> → <path2>`` for a rename), or the reason alone without a path."""
    reason = os_reason(e)
    paths = [str(p) for p in (e.filename, e.filename2) if p not in (None, "")]
    return f"{' → '.join(paths)}：{reason}" if paths else reason
