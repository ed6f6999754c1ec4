#!/usr/bin/env bash
# Build the asgi-lambda Lambda layer.
#
#   ./build_layer.sh
#       The universal layer, dist/asgi-lambda-layer.zip: pure Python, for python3.12, 3.13
#       and 3.14 on x86_64 and arm64.
#   ./build_layer.sh --python 3.13 --arch arm64 --with postgresql,redis
#       The same plus the WebSocket stores' compiled dependencies, for one runtime and one
#       architecture: dist/asgi-lambda-layer-py3.13-arm64.zip.
#
# Zip layout: asgi-bootstrap (the exec wrapper, executable) at the root, which Lambda
# unpacks to /opt/asgi-bootstrap, and python/asgi_lambda/, which lands in /opt/python.
# The same sources give a byte-identical zip, wherever and whenever they are built: fixed
# timestamps, sorted entries, modes reduced to 644 or 755 (whatever the umask), bytecode compiled
# with unchecked hashes (no source timestamps in it). tests/test_release.py checks it.
set -euo pipefail

SUPPORTED_PYTHONS=(3.12 3.13 3.14)
SUPPORTED_ARCHES=(x86_64 arm64)
NEVER_SHIPPED=(boto3 botocore s3transfer)

root=$(cd "$(dirname "$0")" && pwd)

# Defined first: the registry's check below already needs it.
fail() {
    echo "build_layer.sh: $*" >&2
    exit 2
}

# The WebSocket stores and the packages each ships come from the store registry
# (layer/asgi_lambda/stores/registry.py), the one list the settings and README read too.
# boto3 is part of Lambda's Python runtime and is never shipped.
registry() {
    PYTHONPATH="$root/layer" python3 -c "
import sys
from asgi_lambda.stores.registry import STORES, entry_for
if sys.argv[1] == 'names':
    print(' '.join(entry.name for entry in STORES))
else:
    for name in sys.argv[2].split(','):
        entry = entry_for(name)
        print(entry.name + ' ' + ' '.join(entry.layer_packages) if entry else '?' + name)
" "$@"
}
# Apart from the array: under set -e a failing substitution would end the script without a word.
names=$(registry names) || fail "could not read the store registry: python3 must import layer/asgi_lambda."
BACKENDS=($names)
[ ${#BACKENDS[@]} -gt 0 ] || fail "could not read the store registry: python3 must import layer/asgi_lambda."

usage() {
    cat <<EOF
Usage: ./build_layer.sh [--python VERSION --arch ARCH --with BACKEND[,BACKEND...]] [--output DIR]

  --python VERSION   runtime of the layer with dependencies: ${SUPPORTED_PYTHONS[*]}
  --arch ARCH        architecture of the layer with dependencies: ${SUPPORTED_ARCHES[*]}
  --with BACKENDS    WebSocket stores whose dependencies to include: ${BACKENDS[*]}
  --output DIR       where the zip goes (default: dist)

With no options: the universal pure-Python layer, dist/asgi-lambda-layer.zip.
EOF
}

one_of() {
    local value=$1
    shift
    local choice
    for choice in "$@"; do
        [ "$value" = "$choice" ] && return 0
    done
    return 1
}

python_version="" arch="" backends="" output="$root/dist"
while [ $# -gt 0 ]; do
    case "$1" in
        --python | --arch | --with | --output)
            [ $# -ge 2 ] || fail "$1 needs a value. See --help."
            case "$1" in
                --python) python_version=$2 ;;
                --arch) arch=$2 ;;
                --with) backends=$2 ;;
                --output) output=$2 ;;
            esac
            shift 2
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            fail "unknown option '$1'."
            ;;
    esac
done

if [ -n "$python_version" ] && ! one_of "$python_version" "${SUPPORTED_PYTHONS[@]}"; then
    fail "--python '$python_version' is not a supported runtime; expected one of: ${SUPPORTED_PYTHONS[*]}."
fi
if [ -n "$arch" ] && ! one_of "$arch" "${SUPPORTED_ARCHES[@]}"; then
    fail "--arch '$arch' is not a Lambda architecture; expected one of: ${SUPPORTED_ARCHES[*]}."
fi
if [ -n "$backends$python_version$arch" ] && [ -z "$backends" ]; then
    fail "--python and --arch choose the runtime of a layer with dependencies: add --with BACKENDS, or drop them for the universal layer."
fi
if [ -n "$backends" ] && { [ -z "$python_version" ] || [ -z "$arch" ]; }; then
    fail "--with needs --python and --arch: compiled dependencies are built for one runtime and one architecture."
fi
packages=()
if [ -n "$backends" ]; then
    while read -r name needs; do
        [ "${name#\?}" = "$name" ] || fail "--with '${name#\?}' is not a WebSocket store; expected some of: ${BACKENDS[*]}."
        [ -z "$needs" ] || packages+=($needs)
    done < <(registry packages "$backends")
fi

# The interpreter of one Python version: on PATH, else in pyenv's versions.
find_python() {
    local version=$1 candidate
    for candidate in "python$version" "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/"$version".*/bin/"python$version"; do
        if "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))" 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# Bytecode for one interpreter, with paths as they will be on Lambda (/opt/python/...).
compile_for() {
    "$1" -m compileall -q -j 1 --invalidation-mode unchecked-hash -s "$stage/python" -p /opt/python "$stage/python" >/dev/null
}

if [ -n "$backends" ]; then
    name="asgi-lambda-layer-py$python_version-$arch.zip"
else
    name="asgi-lambda-layer.zip"
fi
# A private staging folder: two builds at once (parallel tests, two terminals) never share one,
# and its path reaches neither the zip nor the bytecode (compile_for strips it).
stage=$(mktemp -d "${TMPDIR:-/tmp}/asgi-lambda-layer.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/python" "$output"
cp "$root/wrapper/asgi-bootstrap" "$stage/asgi-bootstrap"
# Exactly the files layer/manifest.txt lists: the developer tools never reach the layer.
while read -r path; do
    case "$path" in "" | "#"*) continue ;; esac
    [ -f "$root/layer/$path" ] || fail "layer/manifest.txt lists $path, which does not exist."
    mkdir -p "$stage/python/$(dirname "$path")"
    cp "$root/layer/$path" "$stage/python/$path"
done <"$root/layer/manifest.txt"

if [ -n "$backends" ]; then
    interpreter=$(find_python "$python_version") || fail "python$python_version was not found (on PATH or in pyenv); it builds the dependencies for that runtime."
    if [ ${#packages[@]} -gt 0 ]; then
        machine=$([ "$arch" = arm64 ] && echo aarch64 || echo x86_64)
        # Amazon Linux 2023 has glibc 2.34: every manylinux tag up to 2_34 runs there.
        platforms=()
        for minor in $(seq 34 -1 17); do platforms+=(--platform "manylinux_2_${minor}_$machine"); done
        platforms+=(--platform "manylinux2014_$machine")
        site_packages="$stage/python/lib/python$python_version/site-packages"
        # Each pin with its hashes (layer/hashes.txt, beside the pins): pip refuses any other file.
        requirements="$stage/requirements.txt"
        for package in "${packages[@]}"; do
            grep -E "^${package//./\\.} " "$root/layer/hashes.txt" >>"$requirements" ||
                fail "layer/hashes.txt has no hashes for $package: add its line (the file says how) before shipping it."
        done
        "$interpreter" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-compile \
            --only-binary=:all: --implementation cp --python-version "$python_version" "${platforms[@]}" \
            --require-hashes --target "$site_packages" -r "$requirements"
        rm "$requirements"
        rm -rf "$site_packages/bin"
        for never in "${NEVER_SHIPPED[@]}"; do
            [ ! -e "$site_packages/$never" ] || fail "$never ended up in the layer; Lambda's runtime has it, and a second copy must not be shipped."
        done
        # Debug symbols make up most of a compiled wheel; Lambda never needs them.
        strip_tool=""
        for candidate in "$([ "$(uname -m)" = "$machine" ] && echo strip)" "$machine-linux-gnu-strip" llvm-strip; do
            if [ -n "$candidate" ] && command -v "$candidate" >/dev/null; then
                strip_tool=$candidate
                break
            fi
        done
        [ -n "$strip_tool" ] || fail "no strip for $machine objects: install binutils-$machine-linux-gnu (Debian, Ubuntu) or llvm."
        find "$site_packages" -name "*.so" -exec "$strip_tool" --strip-unneeded {} +
    fi
    compile_for "$interpreter"
    echo "Bytecode: python$python_version"
else
    compiled=()
    for version in "${SUPPORTED_PYTHONS[@]}"; do
        if interpreter=$(find_python "$version"); then
            compile_for "$interpreter"
            compiled+=("$version")
        else
            echo "No python$version here: that runtime compiles asgi_lambda at each cold start (Lambda's /opt is read-only)." >&2
        fi
    done
    echo "Bytecode: ${compiled[*]:-none}"
fi

zip_path="$output/$name"
python3 - "$stage" "$zip_path" <<'PY'
import os, sys, zipfile

stage, zip_path = sys.argv[1], sys.argv[2]
paths = sorted(
    os.path.relpath(os.path.join(folder, file), stage)
    for folder, _, files in os.walk(stage)
    for file in files
)
with zipfile.ZipFile(zip_path + ".partial", "w") as archive:
    for path in paths:
        # Fixed time, Unix mode bits (the exec bit of asgi-bootstrap survives), fixed level.
        info = zipfile.ZipInfo(path.replace(os.sep, "/"), date_time=(1980, 1, 1, 0, 0, 0))
        info.create_system = 3
        executable = os.access(os.path.join(stage, path), os.X_OK) and not path.endswith(".so")
        info.external_attr = (0o100755 if executable or path == "asgi-bootstrap" else 0o100644) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(os.path.join(stage, path), "rb") as source:
            archive.writestr(info, source.read(), compresslevel=9)
os.replace(zip_path + ".partial", zip_path)
PY
size=$(wc -c <"$zip_path")
echo "Wrote $zip_path ($size bytes, sha256 $(sha256sum "$zip_path" | cut -d' ' -f1))"
