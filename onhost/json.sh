#!/bin/bash
# Shell functions for the scripts ship's containers run on the host
# (bash): sourced by being put before them.

# json is its argument as a JSON string.
json() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\n'/\\n}
	s=${s//$'\r'/}
	s=${s//$'\t'/\\t}
	s=$(printf '%s' "$s" | tr -d '\000-\010\013-\037')
	printf '"%s"' "$s"
}
