"""The key exchange and the server's signature of a TLS session, in Postfix 3.7's words (`key-exchange X25519
server-signature RSA-PSS (2048 bits) server-digest SHA256`): Python's ssl module does not tell them, so they are
read from OpenSSL itself through the SSL pointer of the SSL object; anything unexpected gives no words."""

from __future__ import annotations

import ctypes
import ssl
import sys

_SSL_POINTER_OFFSET = 3 * ctypes.sizeof(ctypes.c_void_p)
"""Where CPython's _ssl._SSLSocket keeps its SSL *: after the object header and the socket weakref."""
_GET_NEGOTIATED_GROUP, _GET_SIGNATURE_NID = 134, 132
_SIGNATURES = {6: "RSA", 912: "RSA-PSS", 408: "ECDSA", 1087: "ED25519", 1088: "ED448"}
"""OpenSSL's key type NIDs, named as Postfix names the server's signature."""
_WITH_BITS = {"RSA", "RSA-PSS"}


def _libraries() -> tuple[ctypes.CDLL, ctypes.CDLL] | None:
    try:
        libssl, libcrypto = ctypes.CDLL("libssl.so.3"), ctypes.CDLL("libcrypto.so.3")
    except OSError:
        return None
    libssl.SSL_ctrl.restype, libssl.SSL_ctrl.argtypes = ctypes.c_long, [ctypes.c_void_p, ctypes.c_int,
                                                                        ctypes.c_long, ctypes.c_void_p]
    libssl.SSL_get_signature_type_nid.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    libssl.SSL_get_certificate.restype, libssl.SSL_get_certificate.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
    libcrypto.OBJ_nid2sn.restype, libcrypto.OBJ_nid2sn.argtypes = ctypes.c_char_p, [ctypes.c_int]
    libcrypto.X509_get0_pubkey.restype, libcrypto.X509_get0_pubkey.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
    libcrypto.EVP_PKEY_get_bits.argtypes = [ctypes.c_void_p]
    return libssl, libcrypto


_KNOWN_LAYOUT = sys.implementation.name == "cpython" and (3, 11) <= sys.version_info[:2] <= (3, 13)
_LIBRARIES = _libraries() if _KNOWN_LAYOUT and ssl.OPENSSL_VERSION_INFO[0] == 3 else None
"""OpenSSL 3's libraries, on the CPython versions whose _ssl layout is known; None elsewhere (no words)."""


def describe(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> str:
    """Postfix's words after the cipher, for the server side of a session; "" when they cannot be had."""
    inner = getattr(ssl_object, "_sslobj", None)
    if _LIBRARIES is None or inner is None:
        return ""
    pointer = ctypes.c_void_p.from_address(id(inner) + _SSL_POINTER_OFFSET).value
    return _words(*_LIBRARIES, pointer) if pointer else ""


def _words(libssl: ctypes.CDLL, libcrypto: ctypes.CDLL, pointer: int) -> str:
    group = libssl.SSL_ctrl(pointer, _GET_NEGOTIATED_GROUP, 0, None)
    kind, digest = ctypes.c_int(), ctypes.c_int()
    if group <= 0 or not libssl.SSL_get_signature_type_nid(pointer, ctypes.byref(kind)):
        return ""
    if not libssl.SSL_ctrl(pointer, _GET_SIGNATURE_NID, 0, ctypes.cast(ctypes.byref(digest), ctypes.c_void_p)):
        return ""
    names = [libcrypto.OBJ_nid2sn(nid) for nid in (group, digest.value)]
    signature = _SIGNATURES.get(kind.value)
    if signature is None or None in names:
        return ""
    if signature in _WITH_BITS:
        key = libcrypto.X509_get0_pubkey(libssl.SSL_get_certificate(pointer))
        signature += f" ({libcrypto.EVP_PKEY_get_bits(key)} bits)" if key else ""
    return f"key-exchange {names[0].decode()} server-signature {signature} server-digest {names[1].decode()}"
