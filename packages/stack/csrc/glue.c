/*
 * The seam between lwIP (raw API, NO_SYS) and JavaScript (src/wasm-stack.ts).
 *
 * Imports (module "el"): now, tx, rand, assert_failed, and one function per event.
 * The event imports only record: JS copies what they point at and acts after the
 * exported call returns, so lwIP is never re-entered from its own callbacks.
 * A connection's id is its pcb's address; JS forgets an id on err/close, before lwIP
 * can reuse the memory.
 *
 * Data crosses in two static buffers: `io` (frames in, bytes to write, datagrams) and
 * `addr` (one socket address: family 4/6, port, 16 address bytes).
 */
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "lwip/nd6.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include <string.h>

#define IMPORT(name) __attribute__((import_module("el"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

IMPORT("now") uint32_t host_now(void);
IMPORT("rand") uint32_t host_rand(void);
IMPORT("tx") void host_tx(const void *frame, uint32_t len);
IMPORT("assert_failed") void host_assert_failed(const char *file, int line);
IMPORT("connected") void host_connected(uint32_t id);
/* Returns nonzero to refuse (over the connection limit, listener gone). */
IMPORT("accept") int host_accept(uint32_t listener, uint32_t id);
IMPORT("recv") void host_recv(uint32_t id, const void *data, uint32_t len);
IMPORT("fin") void host_fin(uint32_t id);
IMPORT("sent") void host_sent(uint32_t id, uint32_t len);
IMPORT("err") void host_err(uint32_t id, int err);
IMPORT("udp_recv") void host_udp_recv(uint32_t id, const void *data, uint32_t len);

#define IO_SIZE 65536
static uint8_t io[IO_SIZE] __attribute__((aligned(16)));

struct el_addr {
  uint8_t family; /* 4 or 6 */
  uint8_t pad;
  uint16_t port;
  uint8_t bytes[16];
};
static struct el_addr addr;

static struct netif nif;
static int l2;
static ip6_addr_t gw6;
static int have_gw6;

u32_t sys_now(void) { return host_now(); }
uint32_t el_host_rand(void) { return host_rand(); }
void el_assert_failed(const char *file, int line) {
  host_assert_failed(file, line);
  __builtin_trap();
}

/* The ones'-complement sum of `len` bytes as 16-bit words in memory order (RFC 1071:
 * the byte order of the words does not matter as long as it is the same throughout),
 * not complemented, as lwIP's LWIP_CHKSUM must return. wasm loads need no alignment:
 * 32-bit halves of 64-bit loads summed into 64 bits (no carry lost below 64 KiB). */
uint16_t el_chksum(const void *data, int len) {
  const uint8_t *p = data;
  uint64_t sum = 0;
  while (len >= 32) {
    uint64_t a, b, c, d;
    __builtin_memcpy(&a, p, 8);
    __builtin_memcpy(&b, p + 8, 8);
    __builtin_memcpy(&c, p + 16, 8);
    __builtin_memcpy(&d, p + 24, 8);
    sum += (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) + (c & 0xffffffffu) + (c >> 32) + (d & 0xffffffffu) + (d >> 32);
    p += 32;
    len -= 32;
  }
  while (len >= 4) {
    uint32_t w;
    __builtin_memcpy(&w, p, 4);
    sum += w;
    p += 4;
    len -= 4;
  }
  if (len >= 2) {
    sum += (uint32_t)p[0] | ((uint32_t)p[1] << 8);
    p += 2;
    len -= 2;
  }
  if (len) sum += p[0];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)sum;
}

const struct ip6_addr *el_nd6_gateway(struct netif *netif, const struct ip6_addr *dest) {
  (void)netif;
  (void)dest;
  return have_gw6 ? &gw6 : NULL;
}

EXPORT("el_io") uint8_t *el_io(void) { return io; }
EXPORT("el_addr") struct el_addr *el_addr_ptr(void) { return &addr; }

/* ---- addresses between `addr` and lwIP ---- */

static void addr_to_ip(ip_addr_t *ip) {
  if (addr.family == 6) {
    IP_SET_TYPE(ip, IPADDR_TYPE_V6);
    memcpy(ip_2_ip6(ip)->addr, addr.bytes, 16);
    ip6_addr_clear_zone(ip_2_ip6(ip));
    /* Link-local destinations are on our one interface. */
    ip6_addr_assign_zone(ip_2_ip6(ip), IP6_UNICAST, &nif);
  } else {
    IP_SET_TYPE(ip, IPADDR_TYPE_V4);
    memcpy(&ip_2_ip4(ip)->addr, addr.bytes, 4);
  }
}

static void ip_to_addr(const ip_addr_t *ip, u16_t port) {
  memset(&addr, 0, sizeof addr);
  addr.port = port;
  if (IP_IS_V6_VAL(*ip)) {
    /* A v4-mapped peer of a dual-stack pcb is reported as IPv4, as the kernel does not. */
    addr.family = 6;
    memcpy(addr.bytes, ip_2_ip6(ip)->addr, 16);
  } else {
    addr.family = 4;
    memcpy(addr.bytes, &ip_2_ip4(ip)->addr, 4);
  }
}

/* ---- the interface ---- */

static err_t linkoutput(struct netif *netif, struct pbuf *p) {
  (void)netif;
  /* LWIP_NETIF_TX_SINGLE_PBUF: one contiguous pbuf, except for IP fragments and
   * forwarded chains; copy those into io. */
  if (p->next == NULL) {
    host_tx(p->payload, p->len);
  } else {
    pbuf_copy_partial(p, io, p->tot_len, 0);
    host_tx(io, p->tot_len);
  }
  return ERR_OK;
}

static err_t l3_output4(struct netif *netif, struct pbuf *p, const ip4_addr_t *ip) {
  (void)ip;
  return linkoutput(netif, p);
}

static err_t l3_output6(struct netif *netif, struct pbuf *p, const ip6_addr_t *ip) {
  (void)ip;
  return linkoutput(netif, p);
}

static err_t nif_init(struct netif *netif) {
  netif->name[0] = 'e';
  netif->name[1] = 'l';
  netif->linkoutput = linkoutput;
  if (l2) {
    netif->output = etharp_output;
    netif->output_ip6 = ethip6_output;
    netif->hwaddr_len = 6;
    memcpy(netif->hwaddr, io, 6);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  } else {
    netif->output = l3_output4;
    netif->output_ip6 = l3_output6;
    netif->hwaddr_len = 0;
    netif->flags = 0;
  }
  return ERR_OK;
}

/* mode: 2 = L2 (Ethernet frames, MAC in io[0..5]), 3 = L3 (raw IP packets). */
EXPORT("el_setup") int el_setup(int mode, int mtu) {
  l2 = mode == 2;
  lwip_init();
  if (!netif_add_noaddr(&nif, NULL, nif_init, l2 ? ethernet_input : ip_input)) return -1;
  nif.mtu = (u16_t)mtu;
  nif.mtu6 = (u16_t)mtu;
  netif_set_default(&nif);
  netif_set_up(&nif);
  netif_set_link_up(&nif);
  if (l2) {
    netif_create_ip6_linklocal_address(&nif, 1);
    netif_ip6_addr_set_state(&nif, 0, IP6_ADDR_PREFERRED);
  }
  return 0;
}

EXPORT("el_set_mtu") void el_set_mtu(int mtu) {
  nif.mtu = (u16_t)mtu;
  nif.mtu6 = (u16_t)mtu;
}

/* io: address, netmask, gateway (4 bytes each, network order); all zero = none. */
EXPORT("el_set_ipv4") void el_set_ipv4(void) {
  ip4_addr_t a, m, g;
  memcpy(&a.addr, io, 4);
  memcpy(&m.addr, io + 4, 4);
  memcpy(&g.addr, io + 8, 4);
  netif_set_addr(&nif, &a, &m, &g);
}

/* io: address (16 bytes), gateway (16 bytes; all zero = none). Slot 1 (slot 0 is
 * the link-local address in L2). An all-zero address removes it. */
EXPORT("el_set_ipv6") void el_set_ipv6(void) {
  ip6_addr_t a;
  static const uint8_t zero[16];
  int slot = 1;
  if (memcmp(io, zero, 16) == 0) {
    netif_ip6_addr_set_state(&nif, slot, IP6_ADDR_INVALID);
  } else {
    memcpy(a.addr, io, 16);
    ip6_addr_clear_zone(&a);
    netif_ip6_addr_set(&nif, slot, &a);
    netif_ip6_addr_set_state(&nif, slot, IP6_ADDR_PREFERRED);
  }
  have_gw6 = memcmp(io + 16, zero, 16) != 0;
  if (have_gw6) {
    memcpy(gw6.addr, io + 16, 16);
    ip6_addr_clear_zone(&gw6);
    if (ip6_addr_islinklocal(&gw6)) ip6_addr_assign_zone(&gw6, IP6_UNICAST, &nif);
  }
}

/* A frame (L2) or packet (L3) of `len` bytes in io. Copied into pool buffers: an
 * exhausted pool drops it (returns -1). */
EXPORT("el_input") int el_input(int len) {
  struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
  if (!p) return -1;
  pbuf_take(p, io, (u16_t)len);
  if (nif.input(p, &nif) != ERR_OK) {
    pbuf_free(p);
    return -2;
  }
  return 0;
}

/* Runs the timers that are due; returns the ms until the next one (0xffffffff: none). */
EXPORT("el_poll") uint32_t el_poll(void) {
  sys_check_timeouts();
  return sys_timeouts_sleeptime();
}

/* ---- TCP ---- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  (void)pcb;
  uint32_t id = (uint32_t)(uintptr_t)arg;
  if (err != ERR_OK) {
    if (p) pbuf_free(p);
    return ERR_OK;
  }
  if (!p) {
    host_fin(id);
    return ERR_OK;
  }
  for (struct pbuf *q = p; q; q = q->next) host_recv(id, q->payload, q->len);
  /* The window reopens (tcp_recved) only as the application reads: el_tcp_recved. */
  pbuf_free(p);
  return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
  (void)pcb;
  host_sent((uint32_t)(uintptr_t)arg, len);
  return ERR_OK;
}

static void on_err(void *arg, err_t err) {
  if (arg) host_err((uint32_t)(uintptr_t)arg, err);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
  (void)pcb;
  (void)err;
  host_connected((uint32_t)(uintptr_t)arg);
  return ERR_OK;
}

static void hook(struct tcp_pcb *pcb) {
  tcp_arg(pcb, pcb);
  tcp_recv(pcb, on_recv);
  tcp_sent(pcb, on_sent);
  tcp_err(pcb, on_err);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  if (err != ERR_OK || !pcb) return ERR_VAL;
  if (host_accept((uint32_t)(uintptr_t)arg, (uint32_t)(uintptr_t)pcb)) {
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  hook(pcb);
  return ERR_OK;
}

static u8_t ip_type(int family) {
  return family == 6 ? IPADDR_TYPE_V6 : family == 4 ? IPADDR_TYPE_V4 : IPADDR_TYPE_ANY;
}

/* A new pcb (family 4, 6, or 0 for dual-stack listening); 0 when the pool is empty. */
EXPORT("el_tcp_new") uint32_t el_tcp_new(int family) {
  struct tcp_pcb *pcb = tcp_new_ip_type(ip_type(family));
  if (!pcb) return 0;
  hook(pcb);
  return (uint32_t)(uintptr_t)pcb;
}

/* Binds to `addr` (family 0: any address of both families). */
EXPORT("el_tcp_bind") int el_tcp_bind(uint32_t id) {
  struct tcp_pcb *pcb = (struct tcp_pcb *)(uintptr_t)id;
  ip_addr_t ip;
  if (addr.family == 0) return tcp_bind(pcb, IP_ANY_TYPE, addr.port);
  addr_to_ip(&ip);
  return tcp_bind(pcb, &ip, addr.port);
}

/* Listens; returns the listening pcb's id (the old id is gone) or 0. */
EXPORT("el_tcp_listen") uint32_t el_tcp_listen(uint32_t id, int backlog) {
  struct tcp_pcb *pcb = (struct tcp_pcb *)(uintptr_t)id;
  err_t err;
  struct tcp_pcb *lpcb = tcp_listen_with_backlog_and_err(pcb, (u8_t)backlog, &err);
  if (!lpcb) return 0;
  tcp_arg(lpcb, lpcb);
  tcp_accept(lpcb, on_accept);
  return (uint32_t)(uintptr_t)lpcb;
}

EXPORT("el_tcp_connect") int el_tcp_connect(uint32_t id) {
  struct tcp_pcb *pcb = (struct tcp_pcb *)(uintptr_t)id;
  ip_addr_t ip;
  addr_to_ip(&ip);
  return tcp_connect(pcb, &ip, addr.port, on_connected);
}

/* Queues up to `len` bytes of io; returns how many it took (0: send buffer full, wait
 * for `sent`), or a negative lwIP error. */
EXPORT("el_tcp_write") int el_tcp_write(uint32_t id, int len, int more) {
  struct tcp_pcb *pcb = (struct tcp_pcb *)(uintptr_t)id;
  u32_t room = tcp_sndbuf(pcb);
  if (room == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 4) return 0;
  u32_t n = (u32_t)len < room ? (u32_t)len : room;
  if (n > 0xffff) n = 0xffff;
  for (;;) {
    err_t err = tcp_write(pcb, io, (u16_t)n, TCP_WRITE_FLAG_COPY | (more ? TCP_WRITE_FLAG_MORE : 0));
    if (err == ERR_OK) return (int)n;
    if (err != ERR_MEM) return err;
    /* The shared heap is short: try a smaller piece, else wait for acknowledgements. */
    if (n <= 1024) return 0;
    n /= 2;
  }
}

EXPORT("el_tcp_output") int el_tcp_output(uint32_t id) {
  return tcp_output((struct tcp_pcb *)(uintptr_t)id);
}

EXPORT("el_tcp_recved") void el_tcp_recved(uint32_t id, uint32_t len) {
  struct tcp_pcb *pcb = (struct tcp_pcb *)(uintptr_t)id;
  while (len > 0) {
    u16_t n = len > 0xffff ? 0xffff : (u16_t)len;
    tcp_recved(pcb, n);
    len -= n;
  }
}

EXPORT("el_tcp_sndbuf") uint32_t el_tcp_sndbuf(uint32_t id) {
  return tcp_sndbuf((struct tcp_pcb *)(uintptr_t)id);
}

/* Unacknowledged + unsent bytes still held for this connection. */
EXPORT("el_tcp_unacked") uint32_t el_tcp_unacked(uint32_t id) {
  struct tcp_pcb *pcb = (struct tcp_pcb *)(uintptr_t)id;
  return TCP_SND_BUF - tcp_sndbuf(pcb);
}

EXPORT("el_tcp_shutdown") int el_tcp_shutdown(uint32_t id, int rx, int tx) {
  return tcp_shutdown((struct tcp_pcb *)(uintptr_t)id, rx, tx);
}

/* Closes (FIN) and detaches: no more callbacks for this id. Aborts (RST) when lwIP has
 * no memory for the FIN. */
EXPORT("el_tcp_close") void el_tcp_close(uint32_t id) {
  struct tcp_pcb *pcb = (struct tcp_pcb *)(uintptr_t)id;
  tcp_arg(pcb, NULL);
  if (pcb->state != LISTEN) {
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
  } else {
    tcp_accept(pcb, NULL);
  }
  if (tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
}

/* Resets and frees at once (destroy with an error, or a refused accept). */
EXPORT("el_tcp_abort") void el_tcp_abort(uint32_t id) {
  struct tcp_pcb *pcb = (struct tcp_pcb *)(uintptr_t)id;
  tcp_arg(pcb, NULL);
  tcp_err(pcb, NULL);
  tcp_abort(pcb);
}

EXPORT("el_tcp_nodelay") void el_tcp_nodelay(uint32_t id, int on) {
  struct tcp_pcb *pcb = (struct tcp_pcb *)(uintptr_t)id;
  if (on) tcp_nagle_disable(pcb);
  else tcp_nagle_enable(pcb);
}

EXPORT("el_tcp_keepalive") void el_tcp_keepalive(uint32_t id, int on, uint32_t idle_ms) {
  struct tcp_pcb *pcb = (struct tcp_pcb *)(uintptr_t)id;
  if (on) {
    ip_set_option(pcb, SOF_KEEPALIVE);
    if (idle_ms) pcb->keep_idle = idle_ms;
  } else {
    ip_reset_option(pcb, SOF_KEEPALIVE);
  }
}

/* Fills addr with the local (which 0) or remote (which 1) address. */
EXPORT("el_tcp_addr") void el_tcp_addr(uint32_t id, int which) {
  struct tcp_pcb *pcb = (struct tcp_pcb *)(uintptr_t)id;
  if (which) ip_to_addr(&pcb->remote_ip, pcb->remote_port);
  else ip_to_addr(&pcb->local_ip, pcb->local_port);
}

/* ---- UDP ---- */

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *ip, u16_t port) {
  (void)pcb;
  ip_to_addr(ip, port);
  /* tot_len is a u16_t: it always fits io. */
  if (p->next == NULL) {
    host_udp_recv((uint32_t)(uintptr_t)arg, p->payload, p->len);
  } else {
    pbuf_copy_partial(p, io, p->tot_len, 0);
    host_udp_recv((uint32_t)(uintptr_t)arg, io, p->tot_len);
  }
  pbuf_free(p);
}

EXPORT("el_udp_new") uint32_t el_udp_new(int family) {
  struct udp_pcb *pcb = udp_new_ip_type(ip_type(family));
  if (!pcb) return 0;
  udp_recv(pcb, on_udp, pcb);
  return (uint32_t)(uintptr_t)pcb;
}

EXPORT("el_udp_bind") int el_udp_bind(uint32_t id) {
  struct udp_pcb *pcb = (struct udp_pcb *)(uintptr_t)id;
  ip_addr_t ip;
  if (addr.family == 0) return udp_bind(pcb, IP_ANY_TYPE, addr.port);
  addr_to_ip(&ip);
  return udp_bind(pcb, &ip, addr.port);
}

/* Sends `len` bytes of io to addr. */
EXPORT("el_udp_sendto") int el_udp_sendto(uint32_t id, int len) {
  struct udp_pcb *pcb = (struct udp_pcb *)(uintptr_t)id;
  ip_addr_t ip;
  addr_to_ip(&ip);
  struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
  if (!p) return ERR_MEM;
  pbuf_take(p, io, (u16_t)len);
  err_t err = udp_sendto(pcb, p, &ip, addr.port);
  pbuf_free(p);
  return err;
}

EXPORT("el_udp_local") void el_udp_local(uint32_t id) {
  struct udp_pcb *pcb = (struct udp_pcb *)(uintptr_t)id;
  ip_to_addr(&pcb->local_ip, pcb->local_port);
}

EXPORT("el_udp_close") void el_udp_close(uint32_t id) {
  udp_remove((struct udp_pcb *)(uintptr_t)id);
}
