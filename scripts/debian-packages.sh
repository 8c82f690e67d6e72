# Sourced by scripts/test and scripts/demo. ensure_debian_packages PKG...: install with apt-get those
# not installed yet (with sudo when not root). PDF_PACKAGES: what WeasyPrint needs to make the
# letters' PDFs (pango, harfbuzz's subsetter, fonts: DejaVu for Latin text, Noto CJK for Chinese
# letters and Chinese names and titles in any letter — "Noto Sans CJK SC" / "Noto Serif CJK SC").
PDF_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-cjk)

ensure_debian_packages() {
  local need=() pkg sudo=""
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
  done
  ((${#need[@]})) || return 0
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}"
}
