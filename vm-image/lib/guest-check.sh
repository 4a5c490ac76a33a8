# Runs INSIDE the guest as /test.sh (vm-image/test boots it with rdinit=/bin/sh): loads
# /etc/berth/modules in order, runs the agent, formats and mounts the data disk, builds a
# bridge + veth, and applies rules shaped like the engine's (network/firewall.rs).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
K=/lib/modules/$(uname -r)
n=0; fail=0
while read -r m; do n=$((n+1)); insmod "$K/$m" || { echo "INSMOD FAIL $m"; fail=$((fail+1)); }; done < /etc/berth/modules
echo "MODULES loaded=$n failed=$fail"
/init --version
/usr/bin/berth-monitor </dev/null; echo "monitor rc=$?"
ls -la /init /usr/bin/tini-static /usr/share/berth/images/berth-hello.tar /etc/ssl/certs/ca-certificates.crt
ls /sys/class/net /sys/block
mkfs.ext4 -q -F /dev/vda && mount -t ext4 /dev/vda /mnt && echo "EXT4 OK" && umount /mnt
mkdir -p /tmp/o/l /tmp/o/u /tmp/o/w /tmp/o/m && mount -t overlay o -o lowerdir=/tmp/o/l,upperdir=/tmp/o/u,workdir=/tmp/o/w /tmp/o/m && echo OVERLAY OK
ip link add br-t type bridge && ip link add v0 type veth peer name v1 && ip link set v0 master br-t && echo BRIDGE VETH OK
ip link set br-t up; ip addr add 172.18.0.1/16 dev br-t
cat > /tmp/rules <<'R'
*filter
:BERTH-F-0123456789ab - [0:0]
-I FORWARD 1 -j BERTH-F-0123456789ab
-A BERTH-F-0123456789ab -o br-t -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A BERTH-F-0123456789ab -d 172.18.0.2/32 ! -i br-t -o br-t -p tcp -m tcp --dport 80 -j ACCEPT
-A BERTH-F-0123456789ab -i br-t -o br-t -j ACCEPT
-A BERTH-F-0123456789ab -i br-t ! -o br-t -j ACCEPT
COMMIT
*nat
:BERTH-D-0123456789ab - [0:0]
:BERTH-P-0123456789ab - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j BERTH-D-0123456789ab
-A OUTPUT -m addrtype --dst-type LOCAL -j BERTH-D-0123456789ab
-A POSTROUTING -j BERTH-P-0123456789ab
-A BERTH-D-0123456789ab -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80
-A BERTH-D-0123456789ab -p udp -m udp --dport 5353 -j DNAT --to-destination 172.18.0.2:53
-A BERTH-P-0123456789ab -s 172.18.0.2/32 -d 172.18.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
-A BERTH-P-0123456789ab -s 172.18.0.0/16 ! -o br-t -j MASQUERADE
-A BERTH-P-0123456789ab -o br-t -m addrtype --src-type LOCAL -j MASQUERADE
COMMIT
R
iptables-restore --noflush < /tmp/rules && echo "IPTABLES RESTORE OK"
iptables-save > /tmp/saved && echo "IPTABLES SAVE OK" && grep -c BERTH /tmp/saved
iptables-save | grep -E "DNAT|MASQ|ctstate"
ps | head -3
echo "NEW MODULES (autoloaded):"; cat /proc/modules | wc -l
echo TEST-DONE
poweroff -f
