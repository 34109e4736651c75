#!/bin/sh
# SPDX-License-Identifier: ISC
# Generate the configure script and Makefile.in from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
mkdir -p m4
autoreconf --install --force
