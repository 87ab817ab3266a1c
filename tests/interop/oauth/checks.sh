# Shared by the OAuth interop suites (dpop.sh, introspection.sh): one line per check
# (PASS/FAIL ...), a final "N passed, M failed" with the exit status, and file excerpts with any
# printed access token cut out. Source it; it defines PASSED, FAILED, pass, fail, finish, show.

PASSED=0
FAILED=0
pass() {
  echo "PASS $*"
  PASSED=$((PASSED + 1))
}
fail() {
  echo "FAIL $*"
  FAILED=$((FAILED + 1))
}
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
  exit
}
# Indented excerpt of a file for a failure, with any access token cut out.
show() {
  sed -E -e 's/^(access token \([^)]*\): ).*/\1<redacted>/' -e 's/^/    /' "$1" | tail -n 15
}
