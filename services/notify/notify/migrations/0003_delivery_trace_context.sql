-- The W3C Trace Context (`traceparent`, `tracestate`) of the consumer that owed a delivery, so
-- that each later attempt, in the delivery loop, continues the trace of the notification's
-- cause. NULL when there was no context to carry.
ALTER TABLE deliveries ADD COLUMN trace_context jsonb;
