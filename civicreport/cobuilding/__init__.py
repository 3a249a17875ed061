"""社区文明共建: the co-building layer beside the cases.

Partner units paired with communities and district leaders linked to areas (``partners``),
joint meetings and their 实事清单 (``matters``), monthly tasks and the communities' month-end
declarations with 红黄牌 (``declarations``), residents' needs orders served by volunteer teams
(``orders``), and the monthly community ranking with 红灰旗 (``ranking``). It reads the case
domains (a community's case figures, photos through the media pipeline) and none of them reads it.
"""
