"""One side of a SPAKE2 exchange with python-spake2, for the Go interop tests.

Usage:
  spake2_peer.py params
      prints "M <hex>" and "N <hex>" (ParamsEd25519) and exits.
  spake2_peer.py A|B PASSWORD_HEX IDA_HEX IDB_HEX [ENTROPY_HEX]
      prints "msg <hex>" (this side's message), reads one line "<hex>" (the
      peer's message) from stdin, prints "key <hex>" or "error <ExceptionName>".
      ENTROPY_HEX, if given, is returned by the entropy function instead of
      os.urandom (python-spake2 asks for 64 bytes once).

Arguments are hex so that nothing secret-looking needs quoting; the tests only
ever pass test passwords.
"""
import sys
from binascii import hexlify, unhexlify

import spake2
from spake2.parameters.ed25519 import ParamsEd25519


def fixed_entropy(data):
    buf = bytearray(data)

    def entropy_f(n):
        if n > len(buf):
            raise ValueError("fixed entropy exhausted")
        out = bytes(buf[:n])
        del buf[:n]
        return out

    return entropy_f


def main(argv):
    if argv[1:] == ["params"]:
        print("M", ParamsEd25519.M.to_bytes().hex())
        print("N", ParamsEd25519.N.to_bytes().hex())
        return 0
    side, pw, ida, idb = argv[1], unhexlify(argv[2]), unhexlify(argv[3]), unhexlify(argv[4])
    kwargs = {"idA": ida, "idB": idb, "params": ParamsEd25519}
    if len(argv) > 5:
        kwargs["entropy_f"] = fixed_entropy(unhexlify(argv[5]))
    cls = {"A": spake2.SPAKE2_A, "B": spake2.SPAKE2_B}[side]
    s = cls(pw, **kwargs)
    print("msg", hexlify(s.start()).decode("ascii"), flush=True)
    line = sys.stdin.readline().strip()
    try:
        key = s.finish(unhexlify(line))
    except Exception as e:  # reported to the Go side by class name
        print("error", type(e).__name__, flush=True)
        return 0
    print("key", hexlify(key).decode("ascii"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
