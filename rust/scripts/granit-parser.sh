#!/usr/bin/env bash
# The vendored granit-parser (rust/vendor/granit-parser) is upstream's 2.2.0 release with
# rust/patches/granit-parser.patch applied. This script fetches a fresh upstream copy with
# cargo (from crates.io, or cargo's local cache) and:
#   check  (default) applies the patch to it and fails unless the result equals the vendored copy
#   diff   rewrites the patch from the vendored copy (after editing rust/vendor/granit-parser)
#   apply  replaces the vendored copy with upstream + the patch
#   test   runs upstream's own suite against the vendored copy (no fetch): unit, integration
#          and doc tests, all but `yaml-test-suite`, whose data the published crate leaves out
set -euo pipefail

VERSION=2.2.0
RUST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENDORED=$RUST_DIR/vendor/granit-parser
PATCH=$RUST_DIR/patches/granit-parser.patch
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Files of the published crate that are cargo's bookkeeping or repository tooling, not the
# crate: left out of the vendored copy. Cargo.lock pins a yanked clap; cargo resolves anew.
DROPPED=(.cargo .cargo-checksum.json .cargo_vcs_info.json .github .gitmodules codecov.yml Cargo.lock)

fresh_upstream() {
    mkdir -p "$WORK/fetch/src"
    cat > "$WORK/fetch/Cargo.toml" <<TOML
[package]
name = "fetch-granit-parser"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
granit-parser = "=$VERSION"
TOML
    : > "$WORK/fetch/src/lib.rs"
    (cd "$WORK/fetch" && cargo vendor --quiet --versioned-dirs "$WORK/crates" > /dev/null)
    mv "$WORK/crates/granit-parser-$VERSION" "$WORK/upstream"
    for name in "${DROPPED[@]}"; do rm -rf "${WORK:?}/upstream/$name"; done
}

compare_excluding_build_output() {
    diff -r --exclude=target --exclude=Cargo.lock "$1" "$2"
}

run_upstream_suite() {
    local tests=() name
    for file in "$VENDORED"/tests/*.rs; do
        name=$(basename "$file" .rs)
        [ "$name" = yaml-test-suite ] || tests+=(--test "$name")
    done
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$RUST_DIR/target/granit-parser}
    cd "$VENDORED"
    cargo test --quiet --lib "${tests[@]}"
    cargo test --quiet --doc
}

if [ "${1:-check}" = test ]; then
    run_upstream_suite
    exit
fi

fresh_upstream
case "${1:-check}" in
    check)
        cp -r "$WORK/upstream" "$WORK/patched"
        patch --quiet --directory="$WORK/patched" -p1 < "$PATCH"
        if ! compare_excluding_build_output "$WORK/patched" "$VENDORED"; then
            echo "rust/vendor/granit-parser is not granit-parser $VERSION + $(basename "$PATCH")" >&2
            exit 1
        fi
        echo "rust/vendor/granit-parser = granit-parser $VERSION + $(basename "$PATCH") ($(grep -c '^+++ ' "$PATCH") files)"
        ;;
    diff)
        (cd "$WORK" && cp -r "$VENDORED" vendored && rm -rf vendored/target vendored/Cargo.lock \
            && diff -ruN upstream vendored > "$PATCH") || [ $? -eq 1 ]
        sed -i -E 's/^((---|\+\+\+) [^\t]*)\t.*$/\1/' "$PATCH"  # no timestamps: a stable diff
        echo "wrote $PATCH ($(grep -c '^+++ ' "$PATCH") files)"
        ;;
    apply)
        patch --quiet --directory="$WORK/upstream" -p1 < "$PATCH"
        rm -rf "$VENDORED" && cp -r "$WORK/upstream" "$VENDORED"
        echo "replaced rust/vendor/granit-parser with granit-parser $VERSION + $(basename "$PATCH")"
        ;;
    *)
        echo "usage: $0 [check|diff|apply|test]" >&2
        exit 2
        ;;
esac
