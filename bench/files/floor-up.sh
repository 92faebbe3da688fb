# The floor: what a careful operator's one script per host does, checked and changed in place.
# Arguments: NAME ADDRESS VIP
name=$1 address=$2 vip=$3
for item in lo/arp_ignore=1 all/arp_ignore=1 lo/arp_announce=2 all/arp_announce=2; do
  file=/proc/sys/net/ipv4/conf/${item%%=*}; value=${item#*=}
  [ "$(cat "$file")" = "$value" ] || echo "$value" > "$file"
done
ip -o addr show dev lo to "$vip" | grep -q . || ip addr add "$vip/32" brd "$vip" dev lo label lo:0
ip route show "$vip" dev lo | grep -q . || ip route replace "$vip" dev lo
page=/var/lib/lvsctl/www/80/index.html
mkdir -p /var/lib/lvsctl/www/80
printf 'I am %s %s\n' "$name" "$address" | cmp -s - "$page" || printf 'I am %s %s\n' "$name" "$address" > "$page"
if ! curl -fsS --max-time 2 http://127.0.0.1:80/ 2>/dev/null | cmp -s - "$page"; then
  setsid busybox httpd -f -p 80 -h /var/lib/lvsctl/www/80 </dev/null >/dev/null 2>&1 &
  echo $! > /var/lib/lvsctl/httpd-80.pid
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do curl -fsS --max-time 1 http://127.0.0.1:80/ >/dev/null 2>&1 && break; sleep 0.1; done
fi
