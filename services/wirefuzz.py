"""Wire fuzzing of a running qrelay server: request messages generated from the descriptors its
server reflection returns (hypothesis strategies per field type), plus byte-level mutations.

Used by ``tests/integration/test_fuzz.py`` (a CI-sized count) and ``bench/bench_fuzz.py``
(≥ 10,000 messages per RPC). Nothing here knows qrelay's services: every RPC reflection lists
is fuzzed, so methods added later are picked up as they appear. Each call's outcome is
classified; a finding is anything a caller should never see — UNKNOWN or INTERNAL, an error
whose status details do not reach the client intact, RESOURCE_EXHAUSTED that is not a rate
limit (gRPC's "Stream removed" when an error's metadata outgrows 8 KB), or a server that went
away. Needs ``hypothesis`` (a development dependency).
"""
from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

# what a caller may get back from qrelay (RESOURCE_EXHAUSTED: only as a rate limit)
ALLOWED = frozenset({"OK", "INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS", "FAILED_PRECONDITION",
                     "PERMISSION_DENIED", "UNAUTHENTICATED", "RESOURCE_EXHAUSTED"})
RATE_LIMITED = "rate limit"  # the words qrelay's RESOURCE_EXHAUSTED answers carry
ROLES = ("engineer", "grader", "ops", "admin")
_INFRA = ("grpc.health.", "grpc.reflection.")


@dataclass(frozen=True)
class Method:
    """One RPC as reflection describes it."""

    path: str  # /package.Service/Method
    input: Descriptor
    server_streaming: bool

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[1]

    @property
    def service(self) -> str:
        return self.path.split("/")[1].rsplit(".", 1)[1]


def discover(channel: grpc.Channel, timeout: float = 10.0) -> list[Method]:
    """Every unary-request RPC of every non-infrastructure service the server reflects."""
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    def ask(**kw):
        return list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(**kw)]), timeout=timeout))

    services = [s.name for r in ask(list_services="") for s in r.list_services_response.service
                if not s.name.startswith(_INFRA)]
    protos: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    for name in services:
        for r in ask(file_containing_symbol=name):
            for raw in r.file_descriptor_response.file_descriptor_proto:
                fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
                protos.setdefault(fd.name, fd)
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(name: str) -> None:
        if name in added:
            return
        fd = protos.get(name)
        if fd is None:  # a well-known type reflection did not send: the runtime has it
            from google.protobuf import descriptor_pool as dp

            fd = descriptor_pb2.FileDescriptorProto()
            dp.Default().FindFileByName(name).CopyToProto(fd)
        for dep in fd.dependency:
            add(dep)
        pool.Add(fd)
        added.add(name)

    for name in list(protos):
        add(name)
    out = []
    for name in sorted(services):
        for m in pool.FindServiceByName(name).methods:
            if not m.client_streaming:
                out.append(Method(f"/{name}/{m.name}", m.input_type, m.server_streaming))
    return out


# --- strategies ---------------------------------------------------------------------------


def _strategies():
    from hypothesis import strategies as st

    return st


# strings that reach past the happy path: resource-shaped, long (echoed errors), odd unicode
_SHAPES = ("", " ", "x", "evaluations/x", "assignments/x", "graders/x", "partners/x", "programmes/x",
           "judgements/x", "evaluations/", "/", "a/b/c", "%", "\\", "\x00", "en-US", "es-MX", "ar-SA", "zz",
           "ACTIVE", "GRADING", "pointwise", "side_by_side", "USD", "2024-01-01", "name", "display_name",
           "status", "spec.depth", "*", "bm9wZQ==", "W10=", "WyJ4Il0=", "نعم", "日本語", "\u202e", "e\u0301")


def _string(names: Sequence[str]):
    st = _strategies()
    return st.one_of(
        st.sampled_from(_SHAPES + tuple(names)),
        st.text(max_size=24),
        st.builds(lambda s, n: s * n, st.sampled_from(("x", "é", "evaluations/", "日")), st.integers(2_000, 12_000)),
        st.builds(lambda c, tail: c + tail, st.sampled_from(tuple(names) or ("evaluations/",)), st.text(max_size=8)),
    )


_INT_BOUNDS = {
    FieldDescriptor.TYPE_INT32: (-2**31, 2**31 - 1), FieldDescriptor.TYPE_SINT32: (-2**31, 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-2**31, 2**31 - 1), FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1), FieldDescriptor.TYPE_INT64: (-2**63, 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-2**63, 2**63 - 1), FieldDescriptor.TYPE_SFIXED64: (-2**63, 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1), FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _scalar(f: FieldDescriptor, names: Sequence[str]):
    st = _strategies()
    t = f.type
    if t == FieldDescriptor.TYPE_STRING:
        return _string(names)
    if t == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    if t == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t == FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in f.enum_type.values]
        return st.one_of(st.sampled_from(known), st.integers(-3, 40), st.sampled_from((2**31 - 1, -2**31)))
    if t in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        width = 32 if t == FieldDescriptor.TYPE_FLOAT else 64
        return st.one_of(st.sampled_from((0.0, -0.0, 1.0, -1.0, 0.5, math.inf, -math.inf, math.nan, 1e300)),
                         st.floats(width=width))
    lo, hi = _INT_BOUNDS[t]
    return st.one_of(st.sampled_from(tuple(v for v in (0, 1, -1, 2, 3, 7, 10, 100, 500, 501, 10_001, lo, hi)
                                           if lo <= v <= hi)),
                     st.integers(lo, hi))


def message_strategy(desc: Descriptor, names: Sequence[str] = (), depth: int = 3):
    """Messages of type ``desc`` (any subset of fields set; nested messages down to ``depth``),
    as dicts of field name → value ready for :func:`build`."""
    st = _strategies()
    parts = {}
    for f in desc.fields:
        if f.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
            if depth <= 0:
                continue
            value = st.deferred(lambda f=f: message_strategy(f.message_type, names, depth - 1))
        else:
            value = _scalar(f, names)
        if f.is_repeated:
            value = st.lists(value, max_size=4) if depth > 1 else st.lists(value, max_size=2)
        parts[f.name] = value
    if not parts:
        return st.just({})
    return st.fixed_dictionaries({}, optional=parts)


def build(desc: Descriptor, values: dict[str, Any]):
    """A message instance from :func:`message_strategy`'s dict (map fields from their entries)."""
    msg = message_factory.GetMessageClass(desc)()
    for name, value in values.items():
        f = desc.fields_by_name[name]
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            if f.is_repeated:
                if f.message_type.GetOptions().map_entry:
                    target = getattr(msg, name)
                    for entry in value:
                        e = build(f.message_type, entry)
                        k = getattr(e, "key")
                        if f.message_type.fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE:
                            target[k].CopyFrom(e.value)
                        else:
                            target[k] = e.value
                else:
                    getattr(msg, name).extend(build(f.message_type, v) for v in value)
            else:
                getattr(msg, name).CopyFrom(build(f.message_type, value))
        elif f.is_repeated:
            getattr(msg, name).extend(value)
        else:
            setattr(msg, name, value)
    return msg


def mutate(data: bytes, rnd: random.Random) -> bytes:
    """One byte-level mutation of a serialised message: flip, insert, delete, truncate, splice."""
    b = bytearray(data)
    op = rnd.randrange(6)
    if op == 0 and b:
        i = rnd.randrange(len(b))
        b[i] ^= 1 << rnd.randrange(8)
    elif op == 1:
        i = rnd.randrange(len(b) + 1)
        b[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8)))
    elif op == 2 and b:
        i = rnd.randrange(len(b))
        del b[i:i + rnd.randint(1, 8)]
    elif op == 3 and b:
        del b[rnd.randrange(len(b)):]
    elif op == 4 and b:
        i = rnd.randrange(len(b))
        b[i:i] = b[i:i + rnd.randint(1, 16)] * rnd.randint(1, 4)
    else:
        b += bytes([rnd.choice((0x08, 0x0A, 0x10, 0x12, 0x1A, 0x7A, 0xFF)), rnd.randrange(256)])
    return bytes(b)


def payload_strategy(method: Method, names: Sequence[str] = ()):
    """Serialised requests for a method: generated messages, and mutations of them (about a third)."""
    st = _strategies()
    generated = message_strategy(method.input, names).map(lambda v: build(method.input, v).SerializeToString())
    mutated = st.tuples(generated, st.randoms(use_true_random=False), st.integers(1, 4)).map(
        lambda t: _mutate_n(*t))
    return st.one_of(generated, generated, mutated, st.binary(max_size=48))


def _mutate_n(data: bytes, rnd: random.Random, n: int) -> bytes:
    for _ in range(n):
        data = mutate(data, rnd)
    return data


# --- calling and judging --------------------------------------------------------------------


@dataclass
class Outcome:
    code: str
    bad: str = ""  # why this answer is a finding ("" when it is fine)


def call(channel: grpc.Channel, method: Method, payload: bytes, token: str | None, timeout: float = 10.0) -> Outcome:
    """Send raw bytes to a method; classify the answer."""
    md = (("authorization", f"Bearer {token}"),) if token else ()
    try:
        if method.server_streaming:
            stream = channel.unary_stream(method.path)(payload, metadata=md, timeout=timeout)
            try:
                next(stream, None)  # the first message (a Watch never ends by itself)
            finally:
                stream.cancel()
        else:
            channel.unary_unary(method.path)(payload, metadata=md, timeout=timeout)
    except grpc.RpcError as err:
        return judge(err)
    return Outcome("OK")


def judge(err: grpc.RpcError) -> Outcome:
    code = err.code().name
    details = err.details() or ""
    if code == "CANCELLED":  # we cancelled a stream after its first message
        return Outcome("OK")
    if code not in ALLOWED:
        return Outcome(code, f"{code}: {details[:200]}")
    if code == "RESOURCE_EXHAUSTED" and RATE_LIMITED not in details:
        return Outcome(code, f"RESOURCE_EXHAUSTED without a rate limit: {details[:200]}")
    try:
        status = rpc_status.from_call(err)
    except ValueError as exc:  # details and code disagree: something cut or rewrote the answer
        return Outcome(code, f"status details do not match the call: {exc}")
    if code == "INVALID_ARGUMENT":
        bad = [d for d in (status.details if status else ()) if d.Is(error_details_pb2.BadRequest.DESCRIPTOR)]
        if not bad:
            return Outcome(code, f"INVALID_ARGUMENT without field violations: {details[:200]}")
    return Outcome(code)


@dataclass
class Report:
    """Counts by code per RPC, and the first findings of each."""

    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    findings: dict[str, list[tuple[str, bytes]]] = field(default_factory=lambda: defaultdict(list))
    seconds: float = 0.0

    def add(self, method: Method, payload: bytes, outcome: Outcome) -> None:
        key = f"{method.service}.{method.name}"
        self.counts[key][outcome.code] += 1
        if outcome.bad and len(self.findings[key]) < 5:
            self.findings[key].append((outcome.bad, payload[:256]))

    def table(self) -> str:
        codes = sorted({c for cnt in self.counts.values() for c in cnt}, key=lambda c: (c != "OK", c))
        width = max([len(k) for k in self.counts] + [3])
        head = f"{'rpc':<{width}} " + " ".join(f"{c:>19}" for c in codes) + f" {'total':>7}"
        lines = [head, "-" * len(head)]
        for key in sorted(self.counts):
            cnt = self.counts[key]
            lines.append(f"{key:<{width}} " + " ".join(f"{cnt.get(c, 0):>19}" for c in codes)
                         + f" {sum(cnt.values()):>7}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Probe:
    """What the wire says about a method before fuzzing it."""

    roles: tuple[str, ...]  # the roles (of the tokens given) it accepts
    implemented: bool  # False while it answers UNIMPLEMENTED (a later release fills it in)


def probe(channel: grpc.Channel, methods: Iterable[Method], tokens: dict[str, str]) -> dict[str, Probe]:
    """An empty request to each method with each role's token: a role counts unless it gets
    PERMISSION_DENIED or UNAUTHENTICATED (the contract, read from the wire)."""
    out: dict[str, Probe] = {}
    for m in methods:
        codes = {role: call(channel, m, b"", token).code for role, token in tokens.items()}
        roles = tuple(r for r, c in codes.items() if c not in ("PERMISSION_DENIED", "UNAUTHENTICATED"))
        out[m.path] = Probe(roles, not roles or any(codes[r] != "UNIMPLEMENTED" for r in roles))
    return out


def fuzz_method(channel: grpc.Channel, method: Method, count: int, tokens: dict[str, str], allowed: Sequence[str],
                names: Sequence[str], report: Report, seed: int = 0,
                alive: Callable[[], bool] = lambda: True) -> None:
    """``count`` generated or mutated requests to one method through hypothesis: most with a token
    of a role the method allows, some with another role's, an unknown token, or none."""
    from hypothesis import HealthCheck, Phase, given, settings, strategies as st
    from hypothesis import seed as hyp_seed

    others: list[str | None] = [t for r, t in tokens.items() if r not in allowed] + ["qrg.g-nobody.00", "nope", None]
    allowed_tokens = [tokens[r] for r in allowed] or list(tokens.values())
    # about 85% of calls as a role the method allows, the rest as someone it must turn away
    choices = allowed_tokens * max(1, round(6 * len(others) / len(allowed_tokens))) + others
    who = st.sampled_from(choices)

    @hyp_seed(seed)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(payload=payload_strategy(method, names), token=who)
    def run(payload: bytes, token: str | None) -> None:
        report.add(method, payload, call(channel, method, payload, token))

    start = time.monotonic()
    run()
    report.seconds += time.monotonic() - start
    if not alive():
        report.findings[f"{method.service}.{method.name}"].append(("the server went away", b""))


def logged_errors(log_text: str) -> Counter:
    """ERROR lines of a server's JSON log by message (what the caller never saw: an audit record
    not written, an unhandled error behind an INTERNAL)."""
    import json

    out: Counter = Counter()
    for line in log_text.splitlines():
        if '"level": "ERROR"' in line:
            try:
                d = json.loads(line)
            except ValueError:
                continue
            last = (d.get("exc") or "").strip().splitlines()[-1:] or [""]
            out[f"{d.get('msg', '')[:120]} | {last[0][:160]}"] += 1
    return out
