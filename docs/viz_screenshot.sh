#!/usr/bin/env bash
# Re-make docs/wai_viz_room.png: a real `wai viz` recording of the synthetic dataset, opened in Rerun's web viewer
# in Chromium on a virtual display (software GL) and captured. Needs: chromium, xvfb, imagemagick (Debian packages)
# and `pip install -e ".[viz]"`. Run from the repository root.
set -euo pipefail
work=$(mktemp -d)
wai convert synthetic --dst "$work/synthetic" --num-scenes 2 > /dev/null
wai covis "$work/synthetic" > /dev/null
wai viz "$work/synthetic" --scene room_000 --views 4 --seed 2 --save "$work/room.rrd"
rerun --serve-web --web-viewer-port 9090 --port 9877 "$work/room.rrd" > "$work/serve.log" 2>&1 &
server=$!
Xvfb :99 -screen 0 1600x900x24 > /dev/null 2>&1 &
display=$!
sleep 4
DISPLAY=:99 chromium --no-sandbox --test-type --use-gl=angle --use-angle=swiftshader --enable-unsafe-swiftshader \
  --window-size=1600,900 --window-position=0,0 --no-first-run \
  --app="http://localhost:9090/?url=rerun%2Bhttp%3A%2F%2Flocalhost%3A9877%2Fproxy" > /dev/null 2>&1 &
browser=$!
sleep "${WAIT:-60}"  # the wasm viewer compiles and loads the recording
DISPLAY=:99 import -window root "$work/shot.png"
kill "$browser" "$server" "$display"
convert "$work/shot.png" -resize 1280x -strip -colors 256 docs/wai_viz_room.png
echo "wrote docs/wai_viz_room.png"
