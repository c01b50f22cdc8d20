# Run in the new root (chroot) before it is slimmed. Python's headers only, without
# libpython3.11-dev's dependencies (the C library's headers and static libraries):
# the build stage of the images installs its compilers and headers itself.
set -eu
cd /tmp
apt-get download -o APT::Sandbox::User=root libpython3.11-dev
dpkg-deb -x libpython3.11-dev_*.deb dev
cp -a dev/usr/include/python3.11 /usr/include/
mkdir -p /usr/include/x86_64-linux-gnu
cp -a dev/usr/include/x86_64-linux-gnu/python3.11 /usr/include/x86_64-linux-gnu/
rm -rf dev libpython3.11-dev_*.deb
