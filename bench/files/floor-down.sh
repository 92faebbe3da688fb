# The floor's teardown: back to the lab host's defaults.
vip=$3
for item in lo/arp_ignore all/arp_ignore lo/arp_announce all/arp_announce; do echo 0 > /proc/sys/net/ipv4/conf/$item; done
ip addr del "$vip/32" dev lo 2>/dev/null
ip route del "$vip" dev lo 2>/dev/null
[ -f /var/lib/lvsctl/httpd-80.pid ] && kill "$(cat /var/lib/lvsctl/httpd-80.pid)" 2>/dev/null
rm -rf /var/lib/lvsctl/www /var/lib/lvsctl/httpd-80.pid
true
