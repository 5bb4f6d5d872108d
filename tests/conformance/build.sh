#!/bin/sh
# Build the PE conformance tests (Wine's test harness) into secur32_test.exe.
#
# Usage: tests/conformance/build.sh [OUTDIR]
#   OUTDIR defaults to tests/conformance/ (the source directory).
# Environment: CC (default x86_64-w64-mingw32-gcc), WINE_SRC (directory holding
# include/wine/test.h; default <top>/.cache/wine-src), SG_WARN_ERROR=1 for -Werror.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-$here}
mkdir -p "$out"
out=$(cd "$out" && pwd)

CC=${CC:-x86_64-w64-mingw32-gcc}
WINE_SRC=${WINE_SRC:-$top/.cache/wine-src}
GI=$($CC -print-file-name=include)
WL=${WINE_WINDOWS_LIBDIR:-/usr/lib/x86_64-linux-gnu/wine/x86_64-windows}

if [ ! -f "$WINE_SRC/include/wine/test.h" ]; then
    echo "build.sh: $WINE_SRC/include/wine/test.h missing (run tools/setup)" >&2
    exit 1
fi

CFLAGS="-nostdinc -I$WINE_SRC/include -I/usr/include/wine -I/usr/include/wine/wine/windows
 -I/usr/include/wine/wine/msvcrt -I$GI -I$here -D_WIN32_WINNT=0x0a00 -D_UCRT
 -fno-builtin -O2 -g -Wall -Wno-format-zero-length"
[ "${SG_WARN_ERROR:-0}" = 1 ] && CFLAGS="$CFLAGS -Werror"
LDFLAGS="-nostdlib -nostartfiles -mconsole -Wl,--entry,mainCRTStartup"
LIBS="$WL/libwinecrt0.a -L$WL -lsecur32 -lcrypt32 -lversion -ladvapi32 -lucrtbase
 -luser32 -lkernel32 -lntdll -lgcc"

objs=
for src in testlist loaded schannel; do
    # shellcheck disable=SC2086
    $CC $CFLAGS -c "$here/$src.c" -o "$out/$src.o"
    objs="$objs $out/$src.o"
done
# shellcheck disable=SC2086
$CC $LDFLAGS $objs $LIBS -o "$out/secur32_test.exe"
echo "build.sh: built $out/secur32_test.exe"
