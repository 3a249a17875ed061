"""督查督办: how the campaign closes the problems one unit cannot.

Joint cases that summon several units (吹哨报到: ``whistles``), joint operations (联合整治:
``operations``), hard problems listed under a district leader until fixed (挂牌整改: ``listings``),
fixed points under regular, often unannounced inspection (点位/暗访: ``points``), and the leader's
page over all of them. It reads the case domains (cases, routing, stats) and the co-building
layer's leader links; none of them reads it.
"""
