#!/usr/bin/env bash
# Checks that the two patch series apply byte-exactly at their bases.
#
#   patches/check.sh --offline          # no Bun tree needed (CI)
#   patches/check.sh <bun-checkout>     # a full clone of oven-sh/bun (or the fork)
#
# Series: patches/bun-v1.3.14/ and patches/main/, each a `git format-patch
# --base` series whose last patch names its base commit (`base-commit:`).
# Next to each: pre-images/, the content at the base of every file the series
# modifies, and pre-images.txt, their git blob ids ("<blob> <path>").
#
# --offline, per series:
#   1. every pre-image hashes (git hash-object) to the blob id in pre-images.txt,
#      and every file the series modifies has a pre-image;
#   2. each patch's "index <old>.." line for a file names that blob (the first
#      patch touching it) or the previous patch's result;
#   3. in a temporary git repository holding the pre-images, each patch applies
#      with `patch -p1 -F0` reporting no offset and no fuzz, and then the
#      whole series applies with `git am`.
# With a checkout, per series: the base commit is present, each pre-image blob
# id equals the checkout's blob at the base, and in a temporary worktree at the
# base each patch applies with no offset or fuzz, then `git am` applies the
# series; `zig fmt --check` runs on the touched .zig files if `zig` is on PATH.
# The checkout itself is not modified. CHECK_KEEP_WORKTREE=1 keeps the worktrees.
#
# Exit status: 0 when every check passed, 1 when one failed, 2 on a usage error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
series_names=(bun-v1.3.14 main)
identity=(-c user.name="patches check" -c user.email="patches-check@localhost" -c commit.gpgsign=false)
failed=0

die() {
  echo "check.sh: $*" >&2
  exit 2
}
fail() {
  echo "FAIL    $*"
  failed=1
}

patches_of() { find "$here/$1" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' | LC_ALL=C sort; }
# shellcheck disable=SC2046 # patch file names have no spaces (format-patch names)
base_of() { sed -n 's/^base-commit: \([0-9a-f]\{40\}\)$/\1/p' $(patches_of "$1") | tail -1; }

# Files a series modifies (not creates): "path" per line.
modified_files() {
  # shellcheck disable=SC2046
  awk '/^diff --git a\//{path=substr($3,3)} /^index [0-9a-f]+\.\.[0-9a-f]+/ && $2 !~ /^0+\.\./{print path}' $(patches_of "$1") |
    LC_ALL=C sort -u
}

# Applies each patch of $1 with GNU patch into the work tree $2, failing on any
# offset or fuzz; the tree is left with the series applied.
apply_exactly() {
  local name=$1 tree=$2 patch out
  while IFS= read -r patch; do
    if ! out=$(cd "$tree" && patch -p1 -F0 --no-backup-if-mismatch --batch <"$patch" 2>&1); then
      fail "$name $(basename "$patch"): patch -F0 failed"
      printf '        | %s\n' "$out"
      return 1
    fi
    if echo "$out" | grep -qiE 'offset|fuzz'; then
      fail "$name $(basename "$patch"): applies only with an offset or fuzz"
      echo "$out" | grep -iE 'offset|fuzz' | sed 's/^/        | /'
      return 1
    fi
    echo "ok      $name $(basename "$patch"): no offset, no fuzz"
  done < <(patches_of "$name")
}

# git am of the whole series in the git work tree $2 (at the base).
am_series() {
  local name=$1 tree=$2 count
  count=$(patches_of "$name" | wc -l)
  # shellcheck disable=SC2046
  if git "${identity[@]}" -C "$tree" am --quiet $(patches_of "$name"); then
    echo "ok      $name: git am applied $count patches"
  else
    git -C "$tree" am --abort >/dev/null 2>&1 || true
    fail "$name: git am failed"
    return 1
  fi
}

check_preimages() {
  local name=$1 dir=$here/$1 blob path actual
  [ -f "$dir/pre-images.txt" ] || { fail "$name: no pre-images.txt"; return 1; }
  while read -r blob path; do
    actual=$(git hash-object "$dir/pre-images/$path" 2>/dev/null || echo missing)
    if [ "$actual" = "$blob" ]; then
      echo "ok      $name pre-image $path ($blob)"
    else
      fail "$name pre-image $path: blob $actual, pre-images.txt says $blob"
    fi
  done <"$dir/pre-images.txt"
  while IFS= read -r path; do
    grep -q " $path\$" "$dir/pre-images.txt" || fail "$name: $path is modified but has no pre-image"
  done < <(modified_files "$name")
  # The first "index old.." for each file must name the stored blob.
  # shellcheck disable=SC2046
  awk '/^diff --git a\//{path=substr($3,3)} /^index [0-9a-f]+\.\.[0-9a-f]+/ && $2 !~ /^0+\.\./{split($2,a,"\\.\\."); if (!(path in seen)) {seen[path]=1; print a[1], path}}' \
    $(patches_of "$name") | while read -r old path; do
    blob=$(awk -v p="$path" '$2==p{print $1}' "$dir/pre-images.txt")
    case $blob in
      "$old"*) echo "ok      $name: the series' index line for $path names the pre-image" ;;
      *) fail "$name: the series expects $path at $old, the pre-image is ${blob:-missing}" ;;
    esac
  done
}

offline() {
  local name work base
  for name in "${series_names[@]}"; do
    echo "== $name (offline)"
    base=$(base_of "$name")
    [ -n "$base" ] || { fail "$name: no base-commit line"; continue; }
    echo "base    $base"
    check_preimages "$name" || true
    work=$(mktemp -d "${TMPDIR:-/tmp}/bun-patches-offline.XXXXXX")
    cp -R "$here/$name/pre-images/." "$work/"
    git -C "$work" init --quiet
    git -C "$work" add -A
    git "${identity[@]}" -C "$work" commit --quiet -m "pre-images at $base"
    if apply_exactly "$name" "$work"; then
      git -C "$work" reset --quiet --hard
      git -C "$work" clean --quiet -fd
      am_series "$name" "$work" || true
    fi
    rm -rf "$work"
  done
}

with_checkout() {
  local checkout=$1 name base blob path actual wt
  git -C "$checkout" rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "$checkout is not a git checkout"
  for name in "${series_names[@]}"; do
    echo "== $name (checkout $checkout)"
    base=$(base_of "$name")
    if ! git -C "$checkout" cat-file -e "$base^{commit}" 2>/dev/null; then
      fail "$name: the checkout has no commit $base"
      continue
    fi
    echo "base    $base ($(git -C "$checkout" describe --tags --always "$base" 2>/dev/null))"
    while read -r blob path; do
      actual=$(git -C "$checkout" rev-parse --verify --quiet "$base:$path" || echo missing)
      if [ "$actual" = "$blob" ]; then
        echo "ok      $name: $path at the base is the stored pre-image"
      else
        fail "$name: $path at the base is $actual, the stored pre-image is $blob"
      fi
    done <"$here/$name/pre-images.txt"
    wt=$(mktemp -d "${TMPDIR:-/tmp}/bun-patches-check.XXXXXX")
    rmdir "$wt"
    git -C "$checkout" worktree add --quiet --detach "$wt" "$base"
    if apply_exactly "$name" "$wt"; then
      git -C "$wt" reset --quiet --hard
      git -C "$wt" clean --quiet -fd
      if am_series "$name" "$wt" && command -v zig >/dev/null 2>&1; then
        local zig_files=()
        while IFS= read -r path; do zig_files+=("$path"); done < <(git -C "$wt" diff --name-only "$base" HEAD -- '*.zig')
        if [ ${#zig_files[@]} -gt 0 ]; then
          if (cd "$wt" && zig fmt --check "${zig_files[@]}"); then
            echo "ok      $name: zig fmt --check (zig $(zig version)) on ${zig_files[*]}"
          else
            fail "$name: zig fmt --check"
          fi
        fi
      fi
    fi
    if [ "${CHECK_KEEP_WORKTREE:-0}" = 1 ]; then
      echo "kept    $wt"
    else
      git -C "$checkout" worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"
      git -C "$checkout" worktree prune >/dev/null 2>&1 || true
    fi
  done
}

case ${1:-} in
  --offline) [ $# -eq 1 ] || die "usage: $0 --offline | <bun-checkout>"; offline ;;
  "" | -h | --help) die "usage: $0 --offline | <bun-checkout>" ;;
  *) [ $# -eq 1 ] || die "usage: $0 --offline | <bun-checkout>"; with_checkout "$1" ;;
esac

echo
if [ $failed = 0 ]; then
  echo "RESULT: every series applies byte-exactly at its base (nothing was built or run)."
else
  echo "RESULT: FAILED (see the FAIL lines above)."
fi
exit $failed
