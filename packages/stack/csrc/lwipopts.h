/*
 * lwIP's options for @elink/stack: one interface (the segment), no OS (NO_SYS, the
 * raw callback API driven from JavaScript), every pool fixed in size so the module's
 * memory is bounded whatever the peers do. docs/stack.md explains each choice.
 */
#ifndef EL_LWIPOPTS_H
#define EL_LWIPOPTS_H

#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0
#define LWIP_TIMERS                 1
#define LWIP_SINGLE_NETIF           1
#define LWIP_NETIF_TX_SINGLE_PBUF   1   /* one contiguous frame per tx() call to JS */
#define LWIP_NETIF_LINK_CALLBACK    0
#define LWIP_NETIF_STATUS_CALLBACK  0

/* --- memory: all static, sized here ---------------------------------------------- */
#define MEM_ALIGNMENT               4
#define MEM_LIBC_MALLOC             0
#define MEMP_MEM_MALLOC             0
/* The heap holds what tcp_write copied and is not yet acknowledged (and UDP/ICMP
 * replies): a full heap makes tcp_write say ERR_MEM, which the JS side treats as
 * back-pressure. */
#define MEM_SIZE                    (8 * 1024 * 1024)
/* Received frames land in pool buffers (chained for frames above the buffer size);
 * an exhausted pool drops frames, TCP recovers by retransmission. */
#define PBUF_POOL_SIZE              1024
#define PBUF_POOL_BUFSIZE           1600
#define MEMP_NUM_PBUF               64
#define MEMP_NUM_UDP_PCB            64
#define MEMP_NUM_TCP_PCB            128
#define MEMP_NUM_TCP_PCB_LISTEN     32
#define MEMP_NUM_TCP_SEG            8192
#define MEMP_NUM_REASSDATA          16
#define MEMP_NUM_FRAG_PBUF          64
#define MEMP_NUM_ARP_QUEUE          64
#define MEMP_NUM_ND6_QUEUE          64
#define IP_REASS_MAX_PBUFS          128
#define MEMP_OVERFLOW_CHECK         0
#define MEMP_SANITY_CHECK           0

/* --- link and network layers --------------------------------------------------- */
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define ARP_TABLE_SIZE              64
#define ARP_QUEUEING                1
#define ETH_PAD_SIZE                0
#define LWIP_IPV4                   1
#define IP_FORWARD                  0
#define IP_REASSEMBLY               1
#define IP_FRAG                     1
#define LWIP_ICMP                   1
#define LWIP_RAW                    0
#define LWIP_DHCP                   0
#define LWIP_AUTOIP                 0
#define LWIP_ACD                    0
#define LWIP_IGMP                   0
#define LWIP_DNS                    0   /* names are resolved in TypeScript over UDP */
#define LWIP_IPV6                   1
#define LWIP_IPV6_NUM_ADDRESSES     3   /* link-local + the pushed address + one spare */
#define LWIP_IPV6_FORWARD           0
#define LWIP_IPV6_FRAG              1
#define LWIP_IPV6_REASS             1
#define LWIP_IPV6_MLD               0   /* the switch floods multicast; its 100 ms timer would wake an idle stack */
#define LWIP_ICMP6                  1
#define LWIP_IPV6_AUTOCONFIG        0   /* the switch pushes the address */
#define LWIP_IPV6_ADDRESS_LIFETIMES 0
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0 /* the broker guarantees uniqueness (as `nodad` in the kernel client) */
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 0
#define LWIP_IPV6_DHCP6             0
#define LWIP_ND6_NUM_NEIGHBORS      64
#define LWIP_ND6_NUM_DESTINATIONS   64
#define LWIP_ND6_QUEUEING           1
#define LWIP_ND6_ALLOW_RA_UPDATES   1
#define LWIP_ND6_TCP_REACHABILITY_HINTS 1
/* The pushed IPv6 gateway as next hop for off-link destinations (no RA needed). */
struct netif;
struct ip6_addr;
const struct ip6_addr *el_nd6_gateway(struct netif *netif, const struct ip6_addr *dest);
#define LWIP_HOOK_ND6_GET_GW(netif, dest) el_nd6_gateway(netif, dest)

/* --- transport ------------------------------------------------------------------- */
#define LWIP_UDP                    1
#define LWIP_TCP                    1
/* An upper bound: the MSS used is min(TCP_MSS, interface MTU - 40/60), so the
 * segment's MTU (welcome.mtu) decides it. */
#define TCP_MSS                     8960
#define TCP_CALCULATE_EFF_SEND_MSS  1
#define LWIP_WND_SCALE              1
#define TCP_RCV_SCALE               4       /* windows up to 1 MiB */
/* 512 KiB: ~420 Mbit/s at 10 ms RTT per connection; also each socket's receive
 * buffer bound on the JS side (the window opens only as the application reads). */
#define TCP_WND                     (512 * 1024)
#define TCP_SND_BUF                 (512 * 1024)
#define TCP_SND_QUEUELEN            4096
/* Used only by lwIP's socket API (not built); set low for init.c's 16-bit sanity check. */
#define TCP_SNDLOWAT                16384
#define TCP_SNDQUEUELOWAT           (TCP_SND_QUEUELEN / 2)
#define TCP_QUEUE_OOSEQ             1
#define LWIP_TCP_SACK_OUT           1
#define LWIP_TCP_MAX_SACK_NUM       4
#define TCP_OOSEQ_MAX_PBUFS         256     /* per connection: a reordering peer cannot drain the pool */
#define TCP_OOSEQ_MAX_BYTES         (256 * 1024)
#define TCP_LISTEN_BACKLOG          1
#define TCP_DEFAULT_LISTEN_BACKLOG  32
#define LWIP_TCP_KEEPALIVE          1
#define TCP_OVERSIZE                TCP_MSS
#define LWIP_TCP_TIMESTAMPS         1
#define TCP_MAXRTX                  12
#define TCP_SYNMAXRTX               12  /* lwIP resends SYNs every RTO (1 s) without backoff: connect() gives up after ~13 s (12: its maximum) */
#define LWIP_TCP_RTO_TIME           1000
#define LWIP_CALLBACK_API           1
#define LWIP_EVENT_API              0

/* --- checks ---------------------------------------------------------------------- */
/* The Internet checksum with 64-bit accumulation (glue.c): about twice lwIP's 32-bit
 * algorithm on wasm32, and the single hottest function of a bulk transfer. */
#include <stdint.h>
uint16_t el_chksum(const void *data, int len);
#define LWIP_CHKSUM                 el_chksum
#define LWIP_CHKSUM_ALGORITHM       0
#define LWIP_STATS                  0
#define LWIP_DEBUG                  0

#endif
