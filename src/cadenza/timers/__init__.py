"""The timers role: one durable timer queue for every deadline.

``kinds`` lists every kind of timer and who fires it, ``dispatch`` routes a due
timer to that handler, ``queue`` fires timers in order. The package imports
none of them itself, so the state machine can name a kind without the queue.
"""
