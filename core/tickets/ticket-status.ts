/** A ticket's status (the `tickets.status` check constraint); open = any but resolved or closed (R-ALR-4). */
export const TICKET_STATUSES = ['new', 'in_progress', 'waiting_customer', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const isOpenStatus = (s: TicketStatus): boolean => s !== 'resolved' && s !== 'closed';
