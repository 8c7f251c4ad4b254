/*
 * Notification-pipe (watch queue) ABI used by xehil, written for this project
 * from the kernel's documented layout.
 *
 * <linux/watch_queue.h> cannot be included next to libc's <fcntl.h> (it pulls
 * in <linux/fcntl.h>), so programs that use pipes and watch queues together
 * take the definitions from here. If the kernel header was included first its
 * definitions win and these are skipped.
 */
#ifndef XEHIL_CORE_UAPI_WATCH_UAPI_H_
#define XEHIL_CORE_UAPI_WATCH_UAPI_H_

#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef _LINUX_WATCH_QUEUE_H

#ifndef O_NOTIFICATION_PIPE
/* pipe2() flag selecting a notification pipe; shares its value with O_EXCL. */
#define O_NOTIFICATION_PIPE \
  0200 /* O_EXCL on every Linux architecture xe runs on */
#endif

/* Sets the ring size in notes (1..512), once. */
#define IOC_WATCH_QUEUE_SET_SIZE _IO('W', 0x60)
/* Sets (or, with NULL, removes) the record filter. */
#define IOC_WATCH_QUEUE_SET_FILTER _IO('W', 0x61)

enum watch_notification_type {
  WATCH_TYPE_META = 0,
  WATCH_TYPE_KEY_NOTIFY = 1,
};

enum watch_meta_notification_subtype {
  WATCH_META_REMOVAL_NOTIFICATION = 0,
  WATCH_META_LOSS_NOTIFICATION = 1,
};

/*
 * Every record starts with this header. `info` carries the record length in
 * bytes, header included (bits 0..6), the watch id (bits 8..15) and
 * type-specific bits (16..31). Records are not padded.
 */
struct watch_notification {
  __u32 type : 24;
  __u32 subtype : 8;
  __u32 info;
};

#define WATCH_INFO_LENGTH 0x0000007f
#define WATCH_INFO_LENGTH__SHIFT 0
#define WATCH_INFO_ID 0x0000ff00
#define WATCH_INFO_ID__SHIFT 8
#define WATCH_INFO_TYPE_INFO 0xffff0000
#define WATCH_INFO_TYPE_INFO__SHIFT 16

/* One filter entry: passes records of `type` whose subtype bit is set in
 * subtype_filter and whose (info & info_mask) == info_filter. */
struct watch_notification_type_filter {
  __u32 type;
  __u32 info_filter;
  __u32 info_mask;
  __u32 subtype_filter[8];
};

struct watch_notification_filter {
  __u32 nr_filters;
  __u32 __reserved;
  struct watch_notification_type_filter filters[];
};

/* Posted to each watch when the watched object goes away. The 16-byte form
 * carries a 64-bit object id. */
struct watch_notification_removal {
  struct watch_notification watch;
  __u64 id;
};

#endif /* _LINUX_WATCH_QUEUE_H */

/* Constants the kernel header lacks but xehil uses. */
#define XEHIL_WATCH_QUEUE_MAX_NOTES 512
#define XEHIL_WATCH_QUEUE_NOTES_PER_PAGE 32
#define XEHIL_WATCH_QUEUE_NOTE_SIZE 128
#define XEHIL_WATCH_FILTER_MAX 16
#define XEHIL_WATCH_RECORD_MIN 8
#define XEHIL_WATCH_RECORD_MAX 127

#endif /* XEHIL_CORE_UAPI_WATCH_UAPI_H_ */
