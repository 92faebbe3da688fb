# What every tool must have produced on a real server, on one line.
vip=$3
printf '%s %s %s %s ' $(cat /proc/sys/net/ipv4/conf/lo/arp_ignore /proc/sys/net/ipv4/conf/all/arp_ignore /proc/sys/net/ipv4/conf/lo/arp_announce /proc/sys/net/ipv4/conf/all/arp_announce)
ip -o addr show dev lo to "$vip" | grep -q "lo:0" && printf 'vip ' || printf 'novip '
ip route show "$vip" dev lo | grep -q . && printf 'route ' || printf 'noroute '
curl -s --max-time 2 http://127.0.0.1:80/ 2>/dev/null | tr -d '\n' || true
echo
