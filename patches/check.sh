#!/usr/bin/env bash
# Checks that the patch series next to this script applies to a Bun checkout.
#
#   patches/check.sh <bun-checkout>
#
# The checkout itself is not modified, and uncommitted changes in it are not
# looked at. In a temporary worktree at the checkout's HEAD the script
#   1. runs `git apply --check` on each patch in order (applying each one
#      after its check, so the next is checked against the right tree),
#   2. starts again from HEAD and applies the whole series with `git am`,
#   3. runs `zig fmt --check` on the .zig files the series touches, if `zig`
#      is on PATH.
# Every step prints what it saw; the last lines say which steps ran and which
# did not. Exit status: 0 only if every step that ran passed; 1 if a step
# failed; 2 for a usage error. Without a checkout argument nothing is checked:
# the script says so and exits 0.
#
# Set CHECK_KEEP_WORKTREE=1 to keep the worktree (with the series applied)
# for a build, instead of removing it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
  echo "check.sh: $*" >&2
  exit 2
}

series=()
while IFS= read -r patch; do
  series+=("$patch")
done < <(find "$here" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' | LC_ALL=C sort)
[ ${#series[@]} -gt 0 ] || die "no NNNN-*.patch files in $here"

if [ $# -eq 0 ]; then
  echo "check.sh: SKIPPED: no Bun checkout given, so NOTHING WAS VERIFIED."
  echo "  ${#series[@]} patches found in $here"
  echo "  usage: $0 <path to a bun-v1.3.14 checkout>"
  exit 0
fi
[ $# -eq 1 ] || die "usage: $0 [<bun-checkout>]"

checkout=$1
[ -d "$checkout" ] || die "$checkout is not a directory"
git -C "$checkout" rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "$checkout is not a git checkout"
base=$(git -C "$checkout" rev-parse --verify HEAD) || die "$checkout has no HEAD commit"
described=$(git -C "$checkout" describe --tags --always HEAD 2>/dev/null || echo "$base")
echo "checkout: $checkout"
echo "HEAD:     $base ($described)"
if [ "$described" != "bun-v1.3.14" ]; then
  echo "note:     the series was made against bun-v1.3.14; HEAD is $described"
fi

worktree=$(mktemp -d "${TMPDIR:-/tmp}/bun-patches-check.XXXXXX")
# shellcheck disable=SC2329 # called by the EXIT trap
cleanup() {
  if [ "${CHECK_KEEP_WORKTREE:-0}" = 1 ]; then
    echo "kept worktree: $worktree"
  else
    git -C "$checkout" worktree remove --force "$worktree" >/dev/null 2>&1 || rm -rf "$worktree"
    git -C "$checkout" worktree prune >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
rmdir "$worktree"
git -C "$checkout" worktree add --quiet --detach "$worktree" "$base"

# git am needs a committer; use the checkout's if it has one.
identity=()
if ! git -C "$worktree" config user.email >/dev/null 2>&1; then
  identity=(-c user.name="patches check" -c user.email="patches-check@localhost")
fi

# 1. git apply --check, patch by patch.
echo
echo "== git apply --check"
checked=0
for patch in "${series[@]}"; do
  name=$(basename "$patch")
  if git -C "$worktree" apply --check "$patch"; then
    echo "ok      $name"
    git -C "$worktree" apply --index "$patch"
    checked=$((checked + 1))
  else
    echo "FAILED  $name"
    echo
    echo "RESULT: git apply --check failed at $name ($checked of ${#series[@]} patches applied)."
    echo "        git am and zig fmt were NOT run."
    exit 1
  fi
done
git -C "$worktree" reset --quiet --hard "$base"

# 2. git am, the whole series.
echo
echo "== git am"
if ! git "${identity[@]}" -C "$worktree" am --quiet "${series[@]}"; then
  git -C "$worktree" am --abort >/dev/null 2>&1 || true
  echo
  echo "RESULT: git apply --check passed for all ${#series[@]} patches, but git am FAILED."
  echo "        zig fmt was NOT run."
  exit 1
fi
git -C "$worktree" log --oneline "$base..HEAD"
applied=$(git -C "$worktree" rev-list --count "$base..HEAD")
if [ "$applied" -ne ${#series[@]} ]; then
  echo
  echo "RESULT: git am made $applied commits for ${#series[@]} patches."
  exit 1
fi

# 3. zig fmt --check on the .zig files the series touches.
echo
echo "== zig fmt --check"
zig_files=()
while IFS= read -r file; do
  [ -f "$worktree/$file" ] && zig_files+=("$file")
done < <(git -C "$worktree" diff --name-only "$base" HEAD -- '*.zig')
fmt_result="NOT RUN (zig is not on PATH)"
fmt_failed=0
if [ ${#zig_files[@]} -eq 0 ]; then
  fmt_result="nothing to check (the series touches no .zig files)"
elif command -v zig >/dev/null 2>&1; then
  echo "zig $(zig version): ${zig_files[*]}"
  if (cd "$worktree" && zig fmt --check "${zig_files[@]}"); then
    fmt_result="passed for ${#zig_files[@]} files (zig $(zig version))"
  else
    fmt_result="FAILED (see zig fmt's output above)"
    fmt_failed=1
  fi
else
  echo "zig is not on PATH; skipping ${zig_files[*]}"
fi

echo
echo "RESULT for $described ($base):"
echo "  git apply --check: passed for all ${#series[@]} patches"
echo "  git am:            applied ${#series[@]} commits"
echo "  zig fmt --check:   $fmt_result"
echo "  Nothing was built or run: this checks that the series applies, not that it works."
exit "$fmt_failed"
